package store

import (
	"strings"
	"time"
)

// MaxDescriptionBytes bounds the description of a team or a label.
const MaxDescriptionBytes = 1024

// MaxShortCodeBytes bounds a canned response's short code.
const MaxShortCodeBytes = 64

// Team is a group of agents conversations can be routed to.
type Team struct {
	ID          int64  `json:"id"`
	WorkspaceID int64  `json:"workspace_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// AgentIDs are the members, ascending; [] when there are none.
	AgentIDs  []int64   `json:"agent_ids"`
	CreatedAt time.Time `json:"created_at"`
}

// NewTeam is the input to CreateTeam.
type NewTeam struct {
	Name        string
	Description string
}

// Validate reports the first invalid field.
func (t NewTeam) Validate() error {
	if strings.TrimSpace(t.Name) == "" {
		return Invalid("name", "must not be empty")
	}
	return validateDescription(t.Description)
}

// TeamUpdate changes some fields of a team; nil fields are left alone.
type TeamUpdate struct {
	Name        *string
	Description *string
}

// Apply validates u and applies it to t, trimmed as CreateTeam trims.
func (u TeamUpdate) Apply(t *Team) error {
	if u.Name != nil {
		if strings.TrimSpace(*u.Name) == "" {
			return Invalid("name", "must not be empty")
		}
		t.Name = strings.TrimSpace(*u.Name)
	}
	if u.Description != nil {
		if err := validateDescription(*u.Description); err != nil {
			return err
		}
		t.Description = strings.TrimSpace(*u.Description)
	}
	return nil
}

func validateDescription(d string) error {
	if len(d) > MaxDescriptionBytes {
		return Invalid("description", "longer than %d bytes", MaxDescriptionBytes)
	}
	return nil
}

// CannedResponse is a saved reply agents insert by short code.
type CannedResponse struct {
	ID          int64     `json:"id"`
	WorkspaceID int64     `json:"workspace_id"`
	ShortCode   string    `json:"short_code"`
	Content     string    `json:"content"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Validate reports the first invalid field.
func (c CannedResponse) Validate() error {
	switch {
	case strings.TrimSpace(c.ShortCode) == "" || strings.ContainsAny(c.ShortCode, " \t\r\n"):
		return Invalid("short_code", "must be one word")
	case len(c.ShortCode) > MaxShortCodeBytes:
		return Invalid("short_code", "longer than %d bytes", MaxShortCodeBytes)
	case strings.TrimSpace(c.Content) == "":
		return Invalid("content", "must not be empty")
	case len(c.Content) > MaxBodyBytes:
		return Invalid("content", "longer than %d bytes", MaxBodyBytes)
	}
	return nil
}

// CannedResponseUpdate changes some fields of a canned response; nil
// fields are left alone.
type CannedResponseUpdate struct {
	ShortCode *string
	Content   *string
}

// Apply validates u and applies it to c at time now.
func (u CannedResponseUpdate) Apply(c *CannedResponse, now time.Time) error {
	if u.ShortCode != nil {
		c.ShortCode = *u.ShortCode
	}
	if u.Content != nil {
		c.Content = *u.Content
	}
	if err := c.Validate(); err != nil {
		return err
	}
	c.ShortCode = strings.TrimSpace(c.ShortCode)
	c.UpdatedAt = now
	return nil
}
