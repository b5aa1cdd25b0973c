package store

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned when the row asked for does not exist in the
// caller's workspace. A row that exists in another workspace is not found
// either: the API answers both with 404 and leaks nothing.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a write collides with a uniqueness rule the
// caller can do something about (a label or team name taken, an agent
// already a member).
var ErrConflict = errors.New("store: conflict")

// ErrLastOwner is returned when a change would leave a workspace without
// an owner: demoting or removing its last owner. It wraps ErrConflict
// (HTTP 409).
var ErrLastOwner = fmt.Errorf("store: a workspace must keep an owner: %w", ErrConflict)

// ErrAlreadyMember is returned when inviting an email that is already a
// member of the workspace. It wraps ErrConflict (HTTP 409).
var ErrAlreadyMember = fmt.Errorf("store: already a member: %w", ErrConflict)

// ErrForbidden is returned when an Actor breaks the rank rule
// (Actor.Permits): granting, changing or removing a role stronger than
// its own. The API answers it with 403.
var ErrForbidden = errors.New("store: forbidden")

// ErrInvalid is returned, wrapped in a *ValidationError, for input the
// store refuses (an unknown status, a snooze without an end). The API
// answers it with 400 or 422 and the field name.
var ErrInvalid = errors.New("store: invalid input")

// ErrUnauthenticated is returned by AuthenticateToken for a token that is
// unknown, revoked, or whose agent has left the workspace. The three are
// deliberately indistinguishable.
var ErrUnauthenticated = errors.New("store: unauthenticated")

// ErrEventsGone is returned by EventsAfter when events after the asked-for
// sequence number have been pruned, so a gap-free answer is impossible; the
// client must refetch state (HTTP 410 Gone).
var ErrEventsGone = errors.New("store: events pruned")

// ValidationError names the field that failed validation. It wraps
// ErrInvalid.
type ValidationError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("store: invalid %s: %s", e.Field, e.Message)
}

// Unwrap lets errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Invalid returns a *ValidationError for field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}
