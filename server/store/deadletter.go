package store

import (
	"strings"
	"time"
)

// DeadLetter is a provider webhook payload that was authenticated but could
// not be turned into messages: kept raw, with why, so nothing a customer
// sent is lost silently while the provider is told to stop retrying.
type DeadLetter struct {
	ID          int64     `json:"id"`
	WorkspaceID int64     `json:"workspace_id"`
	InboxID     int64     `json:"inbox_id"`
	Provider    string    `json:"provider"`
	ReceivedAt  time.Time `json:"received_at"`
	Body        []byte    `json:"body"`
	Error       string    `json:"error"`
}

// NewDeadLetter is the input to CreateDeadLetter.
type NewDeadLetter struct {
	InboxID  int64
	Provider string
	Body     []byte
	Error    string
}

// Validate reports the first invalid field.
func (d NewDeadLetter) Validate() error {
	switch {
	case d.InboxID <= 0:
		return Invalid("inbox_id", "required")
	case strings.TrimSpace(d.Provider) == "":
		return Invalid("provider", "must not be empty")
	case d.Body == nil:
		return Invalid("body", "required")
	}
	return nil
}
