package access_test

import (
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/access"
	"github.com/switchboard-inbox/switchboard/server/store"
)

var roles = []store.Role{store.RoleOwner, store.RoleAdmin, store.RoleAgent}

// TestCan spells out every role × action, independently of the package's
// table: a change to the matrix must change this test too.
func TestCan(t *testing.T) {
	want := map[access.Action][3]bool{ // owner, admin, agent
		access.ReadInbox:             {true, true, true},
		access.ReplyToConversation:   {true, true, true},
		access.UpdateConversation:    {true, true, true},
		access.ManageContacts:        {true, true, true},
		access.ManageLabels:          {true, true, false},
		access.ManageCannedResponses: {true, true, false},
		access.ManageTeams:           {true, true, false},
		access.ManageAgents:          {true, true, false},
		access.ManageTokens:          {true, true, false},
		access.ManageWorkspace:       {true, true, false},
		access.ViewAuditLog:          {true, true, false},
		access.ManageOwners:          {true, false, false},
		access.DeleteWorkspace:       {true, false, false},
	}
	if len(want) != len(access.Actions()) {
		t.Fatalf("the test knows %d actions, the package %d: %v", len(want), len(access.Actions()), access.Actions())
	}
	for _, a := range access.Actions() {
		grants, known := want[a]
		if !known {
			t.Errorf("action %q is not in the test's table", a)
			continue
		}
		for i, role := range roles {
			t.Run(string(role)+" "+string(a), func(t *testing.T) {
				if got := access.Can(role, a); got != grants[i] {
					t.Errorf("Can(%s, %s) = %v, want %v", role, a, got, grants[i])
				}
			})
		}
	}
}

func TestRefusedByDefault(t *testing.T) {
	for _, tc := range []struct {
		name   string
		role   store.Role
		action access.Action
	}{
		{"unknown role", store.Role("superuser"), access.ReadInbox},
		{"empty role", "", access.ReadInbox},
		{"unknown action", store.RoleOwner, access.Action("launch_missiles")},
		{"empty action", store.RoleOwner, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if access.Can(tc.role, tc.action) {
				t.Errorf("Can(%q, %q) = true", tc.role, tc.action)
			}
		})
	}
	if access.Action("").Valid() || access.Action("launch_missiles").Valid() {
		t.Error("an unknown action is valid")
	}
}

// TestStrongerRoleGrantsMore: whatever an agent may do an admin may, and
// whatever an admin may an owner may, so store.Role.AtLeast and Can never
// disagree about the order of roles.
func TestStrongerRoleGrantsMore(t *testing.T) {
	for _, a := range access.Actions() {
		if !a.Valid() {
			t.Errorf("listed action %q is not valid", a)
		}
		for i := 1; i < len(roles); i++ {
			if access.Can(roles[i], a) && !access.Can(roles[i-1], a) {
				t.Errorf("%s may %s but %s may not", roles[i], a, roles[i-1])
			}
		}
	}
}

// TestMatrixMatchesDoc holds the matrix in the package comment to the
// table Can reads, so the documentation cannot drift.
func TestMatrixMatchesDoc(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "access.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	var documented []access.Action
	for line := range strings.Lines(f.Doc.Text()) {
		fields := strings.Fields(line)
		if len(fields) < 4 || !access.Action(fields[0]).Valid() {
			continue
		}
		a := access.Action(fields[0])
		documented = append(documented, a)
		for i, role := range roles {
			mark := map[bool]string{true: "✓", false: "·"}[access.Can(role, a)]
			if fields[1+i] != mark {
				t.Errorf("doc says %s %s %q, Can says %q", role, a, fields[1+i], mark)
			}
		}
	}
	if !slices.Equal(documented, access.Actions()) {
		t.Errorf("documented actions %v, want %v in that order", documented, access.Actions())
	}
}
