package drafts

import "testing"

// TestForgetIndex: forgetting a workspace's knowledge index drops that
// workspace's cached index, and only that one, so the next draft there
// rebuilds it from the store (without an erased contact's replies).
func TestForgetIndex(t *testing.T) {
	s := New(nil, nil, Options{})
	s.indexes[1] = &cachedIndex{version: "v1"}
	s.indexes[2] = &cachedIndex{version: "v2"}
	s.ForgetIndex(1)
	s.ForgetIndex(3) // none cached: nothing to do
	if _, ok := s.indexes[1]; ok {
		t.Fatal("workspace 1's index is still cached")
	}
	if c, ok := s.indexes[2]; !ok || c.version != "v2" {
		t.Fatalf("workspace 2's index: %+v, %v", c, ok)
	}
}
