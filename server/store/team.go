package store

import (
	"strings"
	"time"
)

// Team is a group of agents conversations can be routed to.
type Team struct {
	ID          int64
	WorkspaceID int64
	Name        string
	Description string
	// AgentIDs are the members, ascending.
	AgentIDs  []int64
	CreatedAt time.Time
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
	return nil
}

// CannedResponse is a saved reply agents insert by short code.
type CannedResponse struct {
	ID          int64
	WorkspaceID int64
	ShortCode   string
	Content     string
	CreatedAt   time.Time
}

// Validate reports the first invalid field.
func (c CannedResponse) Validate() error {
	switch {
	case strings.TrimSpace(c.ShortCode) == "" || strings.ContainsAny(c.ShortCode, " \t\r\n"):
		return Invalid("short_code", "must be one word")
	case strings.TrimSpace(c.Content) == "":
		return Invalid("content", "must not be empty")
	case len(c.Content) > MaxBodyBytes:
		return Invalid("content", "longer than %d bytes", MaxBodyBytes)
	}
	return nil
}
