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
// is returned once, by CreateAPIToken.
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
// agent's current role in the workspace.
type NewAPIToken struct {
	AgentID int64
	Name    string
	Role    Role
}

// Validate reports an invalid field of nt.
func (nt NewAPIToken) Validate() error {
	if nt.Role != "" && !nt.Role.Valid() {
		return Invalid("role", "unknown role %q", nt.Role)
	}
	return nil
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
