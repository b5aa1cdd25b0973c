package drafts

// IndexCached reports whether the workspace's knowledge index is cached
// here (for the tests of package drafts_test).
func (s *Service) IndexCached(workspaceID int64) bool {
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	_, ok := s.indexes[workspaceID]
	return ok
}
