package store

import (
	"strings"
	"time"
)

// Account is an agent seen as a person signing in: one row across all
// their workspaces, with what Google told us about them.
type Account struct {
	ID    int64
	Email string
	Name  string
	// AvatarURL is the picture Google gave at the last sign-in, or empty.
	AvatarURL string
	// GoogleSub is Google's stable id of the account linked at the first
	// Google sign-in, or empty until then.
	GoogleSub string
	// SessionEpoch is copied into each session at sign-in; a session
	// carrying an older epoch is no longer valid (RevokeSessions).
	SessionEpoch int64
	CreatedAt    time.Time
}

// NewAccount is the input to UpsertAccount: who signed in.
type NewAccount struct {
	Email     string
	Name      string
	AvatarURL string
	// GoogleSub is empty for a sign-in that is not Google's (the local
	// development sign-in).
	GoogleSub string
}

// Validate reports the first invalid field.
func (a NewAccount) Validate() error {
	return validateEmail("email", strings.TrimSpace(a.Email))
}

// AccountWorkspace is one workspace an account is a member of.
type AccountWorkspace struct {
	Workspace Workspace
	Role      Role
	// RequiredDomain, when not empty, is the Google hosted domain (hd) an
	// account must have to use this workspace.
	RequiredDomain string
}

// Admits reports whether a session whose sign-in carried hosted domain hd
// may use the workspace.
func (w AccountWorkspace) Admits(hd string) bool {
	return w.RequiredDomain == "" || strings.EqualFold(w.RequiredDomain, hd)
}

// SessionRef is what a browser session holds about who signed in; the
// store resolves it to a Principal while it is still valid.
type SessionRef struct {
	AgentID     int64
	WorkspaceID int64
	// Epoch is the account's SessionEpoch at sign-in.
	Epoch int64
	// HostedDomain is the Google hosted domain (hd) of the sign-in, empty
	// for a consumer account.
	HostedDomain string
}

// NormalizeDomain returns d lower-cased and trimmed, or a validation error
// on field when it is not empty and does not look like a DNS domain.
func NormalizeDomain(field, d string) (string, error) {
	d = strings.ToLower(strings.TrimSpace(d))
	if d == "" {
		return "", nil
	}
	if len(d) > 253 || !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
		return "", Invalid(field, "not a domain name: %q", d)
	}
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return "", Invalid(field, "not a domain name: %q", d)
		}
	}
	return d, nil
}
