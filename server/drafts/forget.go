package drafts

// ForgetIndex drops the workspace's cached knowledge index on every
// replica (cluster.go), so the next draft rebuilds it from the store.
// Erasing a contact (server/datarights) calls it: the index holds past
// replies read from the contact's conversations, which must not outlive
// them.
func (s *Service) ForgetIndex(workspaceID int64) {
	s.forgetIndex(workspaceID)
	s.broadcast(cancelSignal{Workspace: workspaceID, Forget: true})
}

// forgetIndex is ForgetIndex on this replica.
func (s *Service) forgetIndex(workspaceID int64) {
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	delete(s.indexes, workspaceID)
}
