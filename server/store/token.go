package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// TokenPrefix starts every API token, so that a leaked one is easy to
// recognise in logs and by secret scanners.
const TokenPrefix = "sbt_"

// APIToken describes a stored API token. The plaintext is never stored; it
// is returned once, by CreateAPIToken, and the hash is never handed out.
type APIToken struct {
	ID          int64
	WorkspaceID int64
	AgentID     int64
	Name        string
	Role        Role
	CreatedAt   time.Time
	RevokedAt   *time.Time
}

// NewAPIToken is the input to CreateAPIToken. An empty Role means the
// agent's current role in the workspace, or By's role if weaker.
type NewAPIToken struct {
	AgentID int64
	Name    string
	Role    Role
	// By is who creates the token, for the audit log and the rank rule:
	// the token's role never exceeds By's, and a token for another member
	// needs By to permit that member's role (Actor.Permits). The zero
	// Actor is the system.
	By Actor
}

// MaxTokenNameBytes bounds an API token's name.
const MaxTokenNameBytes = 200

// Validate reports an invalid field of nt.
func (nt NewAPIToken) Validate() error {
	if nt.Role != "" && !nt.Role.Valid() {
		return Invalid("role", "unknown role %q", nt.Role)
	}
	if len(nt.Name) > MaxTokenNameBytes {
		return Invalid("name", "longer than %d bytes", MaxTokenNameBytes)
	}
	return nil
}

// TokenRole is the role a token of nt gets for a member whose role is
// member: the requested role (the member's when empty), capped by the
// member's role and by the creator's. It is an error for the creator to
// mint a token for a member it may not act on (ErrForbidden).
func (nt NewAPIToken) TokenRole(member Role) (Role, error) {
	if nt.By.AgentID != nt.AgentID && !nt.By.Permits(member) {
		return "", ErrForbidden
	}
	r := member
	if nt.Role != "" {
		r = Weaker(nt.Role, member)
	}
	if !nt.By.IsSystem() {
		r = Weaker(r, nt.By.Role)
	}
	return r, nil
}

// Principal is who an authenticated request acts as.
type Principal struct {
	Workspace Workspace
	Agent     Agent
	// Role is the weaker of the token's role and the agent's current
	// membership role.
	Role    Role
	TokenID int64
}

// GenerateToken returns a new plaintext API token and its hash.
func GenerateToken() (plaintext string, hash []byte, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("store: generate token: %w", err)
	}
	plaintext = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return plaintext, HashToken(plaintext), nil
}

// HashToken is the SHA-256 of a token, which is what the store keeps and
// looks tokens up by. A plain hash suffices because tokens carry 256 random
// bits: there is nothing to brute-force.
func HashToken(plaintext string) []byte {
	sum := sha256.Sum256([]byte(strings.TrimSpace(plaintext)))
	return sum[:]
}
