package store

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/mail"
	"strings"
	"time"
)

// Workspace is one team's inbox. It is also a Pusher app: AppID, AppKey and
// AppSecret are what Pusher clients and server SDKs are configured with.
type Workspace struct {
	ID        int64
	Name      string
	AppID     string
	AppKey    string
	AppSecret string
	// Enabled false makes the hub refuse the app's connections and API
	// calls.
	Enabled bool
	// Settings are the Pusher app's switches, limits and webhooks, in the
	// hub App's JSON form.
	Settings json.RawMessage
	// AutoJoinDomain, when set, lets anyone who signs in with a verified
	// Google account of this hosted domain (Google's hd claim) join the
	// workspace as an agent (JoinByEmail). Empty turns it off.
	AutoJoinDomain string
	CreatedAt      time.Time
}

// NewWorkspace is the input to CreateWorkspace: the workspace's name and
// the agent who owns it. A new owner email creates the agent; a known one
// makes that agent the owner of the new workspace too.
type NewWorkspace struct {
	Name       string
	OwnerEmail string
	OwnerName  string
}

// Validate reports the first invalid field.
func (w NewWorkspace) Validate() error {
	if strings.TrimSpace(w.Name) == "" {
		return Invalid("name", "must not be empty")
	}
	return validateEmail("owner_email", w.OwnerEmail)
}

// Role is an agent's role in a workspace.
type Role string

// The roles, strongest first.
const (
	RoleOwner Role = "owner"
	RoleAdmin Role = "admin"
	RoleAgent Role = "agent"
)

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleAdmin || r == RoleAgent }

func (r Role) rank() int {
	switch r {
	case RoleOwner:
		return 3
	case RoleAdmin:
		return 2
	case RoleAgent:
		return 1
	}
	return 0
}

// AtLeast reports whether r grants everything min grants.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() }

// Weaker returns the weaker of a and b: a token never grants more than its
// agent's membership does now.
func Weaker(a, b Role) Role {
	if a.rank() <= b.rank() {
		return a
	}
	return b
}

// Agent is a person working in a workspace, with their role there.
type Agent struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// NewAgent is the input to CreateAgent. An email already known to the
// server adds that agent to the workspace instead of creating a second one.
type NewAgent struct {
	Email string
	Name  string
	Role  Role
}

// Validate reports the first invalid field.
func (a NewAgent) Validate() error {
	if err := validateEmail("email", a.Email); err != nil {
		return err
	}
	if !a.Role.Valid() {
		return Invalid("role", "must be owner, admin or agent, not %q", a.Role)
	}
	return nil
}

func validateEmail(field, email string) error {
	if _, err := mail.ParseAddress(email); err != nil || strings.ContainsAny(email, "<> ") {
		return Invalid(field, "not an email address: %q", email)
	}
	return nil
}

// NewAppCredentials returns a fresh Pusher app id, key and secret for a
// workspace. The id is numeric like Pusher's own; key and secret are
// random hex, long enough that guessing one is hopeless.
func NewAppCredentials() (id, key, secret string, err error) {
	n, err := rand.Int(rand.Reader, big.NewInt(9_000_000_000))
	if err != nil {
		return "", "", "", fmt.Errorf("store: app id: %w", err)
	}
	id = fmt.Sprint(1_000_000_000 + n.Int64())
	var b [26]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", "", fmt.Errorf("store: app key: %w", err)
	}
	return id, hex.EncodeToString(b[:10]), hex.EncodeToString(b[10:]), nil
}
