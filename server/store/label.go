package store

import (
	"regexp"
	"strings"
	"time"
)

// Label is a workspace's tag for conversations. Conversations carry labels
// by name (Conversation.Labels); renaming a label renames it on all of
// them.
type Label struct {
	ID          int64  `json:"id"`
	WorkspaceID int64  `json:"workspace_id"`
	Name        string `json:"name"`
	// Color is "#rrggbb" in lower case, or "" for none.
	Color       string    `json:"color"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

// NewLabel is the input to CreateLabel.
type NewLabel struct {
	Name        string
	Color       string
	Description string
}

// Normalize trims and lower-cases as stored, and reports the first invalid
// field.
func (l *NewLabel) Normalize() error {
	var err error
	if l.Name, err = labelName("name", l.Name); err != nil {
		return err
	}
	if l.Color, err = labelColor(l.Color); err != nil {
		return err
	}
	l.Description = strings.TrimSpace(l.Description)
	return validateDescription(l.Description)
}

// LabelUpdate changes some fields of a label; nil fields are left alone.
type LabelUpdate struct {
	Name        *string
	Color       *string
	Description *string
}

// Apply validates u and applies it to l. renamed reports whether the name
// changed, which changes every conversation carrying the label.
func (u LabelUpdate) Apply(l *Label) (renamed bool, err error) {
	if u.Name != nil {
		name, err := labelName("name", *u.Name)
		if err != nil {
			return false, err
		}
		renamed, l.Name = name != l.Name, name
	}
	if u.Color != nil {
		if l.Color, err = labelColor(*u.Color); err != nil {
			return false, err
		}
	}
	if u.Description != nil {
		l.Description = strings.TrimSpace(*u.Description)
		if err := validateDescription(l.Description); err != nil {
			return false, err
		}
	}
	return renamed, nil
}

// labelName trims a label name and checks it: non-empty, bounded, no
// control characters.
func labelName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", Invalid(field, "must not be empty")
	case len(name) > MaxLabelBytes:
		return "", Invalid(field, "longer than %d bytes", MaxLabelBytes)
	case strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return "", Invalid(field, "must not contain control characters")
	}
	return name, nil
}

var colorRe = regexp.MustCompile(`^#[0-9a-f]{6}$`)

func labelColor(c string) (string, error) {
	c = strings.ToLower(strings.TrimSpace(c))
	if c != "" && !colorRe.MatchString(c) {
		return "", Invalid("color", "must be #rrggbb or empty, not %q", c)
	}
	return c, nil
}
