package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// TestRankRule spells out who may give or take away which role.
func TestRankRule(t *testing.T) {
	system := store.Actor{}
	owner := store.Actor{AgentID: 1, Role: store.RoleOwner}
	admin := store.Actor{AgentID: 2, Role: store.RoleAdmin}
	agent := store.Actor{AgentID: 3, Role: store.RoleAgent}
	for _, tc := range []struct {
		name string
		by   store.Actor
		role store.Role
		want bool
	}{
		{"system, owner", system, store.RoleOwner, true},
		{"owner, owner", owner, store.RoleOwner, true},
		{"admin, owner", admin, store.RoleOwner, false},
		{"admin, admin", admin, store.RoleAdmin, true},
		{"admin, agent", admin, store.RoleAgent, true},
		{"agent, admin", agent, store.RoleAdmin, false},
		{"agent, agent", agent, store.RoleAgent, true},
		{"no role, agent", store.Actor{AgentID: 4}, store.RoleAgent, false},
	} {
		if got := tc.by.Permits(tc.role); got != tc.want {
			t.Errorf("%s: Permits = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTokenRole(t *testing.T) {
	for _, tc := range []struct {
		name   string
		nt     store.NewAPIToken
		member store.Role
		want   store.Role
		err    error
	}{
		{"system, default", store.NewAPIToken{AgentID: 1}, store.RoleOwner, store.RoleOwner, nil},
		{"own, default through an agent token", store.NewAPIToken{AgentID: 1, By: store.Actor{AgentID: 1, Role: store.RoleAgent}}, store.RoleOwner, store.RoleAgent, nil},
		{"own, asking for more than the member has", store.NewAPIToken{AgentID: 1, Role: store.RoleOwner, By: store.Actor{AgentID: 1, Role: store.RoleAdmin}}, store.RoleAdmin, store.RoleAdmin, nil},
		{"an admin's, for an agent", store.NewAPIToken{AgentID: 2, By: store.Actor{AgentID: 1, Role: store.RoleAdmin}}, store.RoleAgent, store.RoleAgent, nil},
		{"an admin's, for an owner", store.NewAPIToken{AgentID: 2, By: store.Actor{AgentID: 1, Role: store.RoleAdmin}}, store.RoleOwner, "", store.ErrForbidden},
		{"an owner's, for an admin, weaker", store.NewAPIToken{AgentID: 2, Role: store.RoleAgent, By: store.Actor{AgentID: 1, Role: store.RoleOwner}}, store.RoleAdmin, store.RoleAgent, nil},
	} {
		got, err := tc.nt.TokenRole(tc.member)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%s: %q, %v; want %q, %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

func TestInvitationStatus(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	at := now.Add(-time.Hour)
	for _, tc := range []struct {
		inv  store.Invitation
		want store.InvitationStatus
	}{
		{store.Invitation{ExpiresAt: now.Add(time.Second)}, store.InvitationPending},
		{store.Invitation{ExpiresAt: now}, store.InvitationExpired},
		{store.Invitation{ExpiresAt: now.Add(time.Hour), AcceptedAt: &at}, store.InvitationAccepted},
		{store.Invitation{ExpiresAt: now.Add(-time.Hour), RevokedAt: &at}, store.InvitationRevoked},
	} {
		if got := tc.inv.Status(now); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.inv, got, tc.want)
		}
	}
}
