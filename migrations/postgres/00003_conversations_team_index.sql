-- The inbox list filtered by team, a team's queue, had no index of its
-- own: the list walked the workspace's conversations in activity order
-- until it had a page of the team's, which for a small team is most of the
-- workspace. Like the assignee index, this one serves the filter and the
-- order together, so the first page reads one page of index entries. At
-- 100,000 conversations (storetest.BenchScale, FirstPage/team-small*) it
-- took a team holding 0.5% of them from 7-16 ms to under a millisecond.

-- +goose Up
CREATE INDEX conversations_team_idx ON conversations (workspace_id, team_id, last_activity_at DESC, id DESC);

-- +goose Down
DROP INDEX conversations_team_idx;
