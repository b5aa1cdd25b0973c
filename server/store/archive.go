package store

import (
	"context"
	"strings"
)

// ArchiveStore is what workspace archives (server/archive: backups and
// moving a workspace to another server) need from storage: a consistent
// read of every row of one workspace, table by table in bounded pages,
// and the write of such rows into a server that does not have them, in
// one transaction. It is part of Store.
//
// Rows cross it dialect-neutral: a row is a []any in the order of the
// columns asked for, each value typed by its column's ArchiveType (see
// there); NULL is nil.
type ArchiveStore interface {
	// ArchiveDialect names the database: "postgres" or "sqlite".
	ArchiveDialect() string
	// ArchiveSchema lists the database's tables with their columns, for
	// checking that ArchiveTables and ArchiveExcluded account for all of
	// them. Virtual tables' shadow tables are listed like tables.
	ArchiveSchema(ctx context.Context) (map[string][]string, error)
	// ExportWorkspace calls fn with a reader of the workspace's rows as
	// of one snapshot: every page fn reads sees the same state, whatever
	// is written meanwhile. An unknown workspace is ErrNotFound.
	ExportWorkspace(ctx context.Context, workspaceID int64, fn func(ArchiveSource) error) error
	// ImportWorkspace calls fn with a writer inside one transaction,
	// committed if fn returns nil and rolled back (nothing written) if it
	// returns an error.
	ImportWorkspace(ctx context.Context, fn func(ArchiveSink) error) error
}

// ArchiveSource reads one workspace's rows within ExportWorkspace.
type ArchiveSource interface {
	// ArchiveRows returns up to limit rows of t in the order of t.Key,
	// those after the key values after (nil: from the first), with the
	// columns of t.Columns.
	ArchiveRows(ctx context.Context, t *ArchiveTable, after []any, limit int) ([][]any, error)
}

// ArchiveSink writes one workspace's rows within ImportWorkspace.
type ArchiveSink interface {
	// InsertRows inserts rows of t with the columns cols (a subset of
	// t's, in any order; the others take their defaults), keeping their
	// ids. A row whose key or unique value the target already has is
	// ErrConflict.
	InsertRows(ctx context.Context, t *ArchiveTable, cols []string, rows [][]any) error
	// ImportAgent returns the id of the target's agent with row's email
	// (compared case-insensitively), creating the agent from row (columns
	// cols of ArchiveAgents) if there is none: with row's id if it is
	// free, else with a new one.
	ImportAgent(ctx context.Context, cols []string, row []any) (int64, error)
	// FinishImport ends the import of workspaceID: identity sequences
	// move past the imported ids, and the workspace's published mark is
	// set to its last event (the events were published at the source;
	// the target's relay must not publish them again).
	FinishImport(ctx context.Context, workspaceID int64) error
}

// ArchiveType is how a column's values are typed in archive rows, the
// same on every store: ArchiveInt int64, ArchiveFloat float64, ArchiveText
// string, ArchiveBool bool, ArchiveTime time.Time (UTC, microseconds),
// ArchiveBytes []byte, ArchiveJSON json.RawMessage.
type ArchiveType int

// The column types of archive rows.
const (
	ArchiveInt ArchiveType = iota
	ArchiveFloat
	ArchiveText
	ArchiveBool
	ArchiveTime
	ArchiveBytes
	ArchiveJSON
)

// ArchiveColumn is one column of an archived table.
type ArchiveColumn struct {
	Name string
	Type ArchiveType
	// Agent marks a column holding an agent id: agents are matched by
	// email on import and may get another id there, which such columns
	// follow.
	Agent bool
}

// ArchiveTable is one archived table: its columns, the key its rows are
// paged and ordered by, and which rows belong to the workspace.
type ArchiveTable struct {
	Name    string
	Columns []ArchiveColumn
	// Key is the unique key rows are paged by, in order.
	Key []string
	// Scope selects the workspace's rows: an SQL condition in which
	// ArchiveWorkspaceParam stands for the workspace id. Empty means
	// "workspace_id = the workspace".
	Scope string
	// Identity says the table's id column takes its values from an
	// identity sequence, which an import must move past its ids.
	Identity bool
}

// ArchiveWorkspaceParam is the placeholder for the workspace id in an
// ArchiveTable.Scope; each store substitutes its parameter syntax.
const ArchiveWorkspaceParam = "{workspace}"

// Column returns the index of the named column in t.Columns, or -1.
func (t *ArchiveTable) Column(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// ColumnNames returns t's column names in order.
func (t *ArchiveTable) ColumnNames() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

// Names of the archived tables the archive treats specially.
const (
	ArchiveWorkspaces = "workspaces"
	ArchiveAgents     = "agents"
	ArchiveMedia      = "media"
)

func cols(spec string) []ArchiveColumn {
	var out []ArchiveColumn
	for _, f := range strings.Fields(spec) {
		name, typ, _ := strings.Cut(f, ":")
		c := ArchiveColumn{Name: name, Type: ArchiveInt}
		if t, ok := strings.CutSuffix(typ, "@agent"); ok {
			typ, c.Agent = t, true
		}
		switch typ {
		case "", "int":
		case "float":
			c.Type = ArchiveFloat
		case "text":
			c.Type = ArchiveText
		case "bool":
			c.Type = ArchiveBool
		case "time":
			c.Type = ArchiveTime
		case "bytes":
			c.Type = ArchiveBytes
		case "json":
			c.Type = ArchiveJSON
		default:
			panic("store: archive column type " + typ)
		}
		out = append(out, c)
	}
	return out
}

// agentScope selects the agents a workspace's rows refer to: its
// members, and the authors, inviters, invitees, audit actors and erasure
// requesters who may have left it since. Agents are people across
// workspaces; the archive carries those its rows need.
const agentScope = `id IN (
	SELECT agent_id FROM memberships WHERE workspace_id = {workspace}
	UNION SELECT author_agent_id FROM messages WHERE workspace_id = {workspace} AND author_agent_id IS NOT NULL
	UNION SELECT invited_by FROM invitations WHERE workspace_id = {workspace} AND invited_by IS NOT NULL
	UNION SELECT accepted_by FROM invitations WHERE workspace_id = {workspace} AND accepted_by IS NOT NULL
	UNION SELECT actor_id FROM audit_log WHERE workspace_id = {workspace} AND actor_id IS NOT NULL
	UNION SELECT requested_by FROM erasure_requests WHERE workspace_id = {workspace} AND requested_by IS NOT NULL)`

// ArchiveTables are the tables a workspace archive holds, in the order
// they are written and imported: every table a row refers to comes
// before the row. Together with ArchiveExcluded they account for every
// table and column of both dialects' schema (storetest.ArchiveSchema
// fails otherwise): a migration that adds a table or a column must add
// it here or there.
var ArchiveTables = []ArchiveTable{
	{Name: "workspaces", Key: []string{"id"}, Scope: "id = {workspace}", Identity: true,
		Columns: cols("id name:text app_id:text app_key:text app_secret:text enabled:bool settings:json event_seq created_at:time required_domain:text auto_join_domain:text")},
	{Name: "agents", Key: []string{"id"}, Scope: agentScope, Identity: true,
		Columns: cols("id email:text name:text created_at:time google_sub:text avatar_url:text session_epoch")},
	{Name: "memberships", Key: []string{"agent_id"},
		Columns: cols("workspace_id agent_id:int@agent role:text created_at:time")},
	{Name: "api_tokens", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id agent_id:int@agent name:text token_hash:bytes role:text created_at:time last_used_at:time revoked_at:time")},
	{Name: "teams", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id name:text description:text created_at:time")},
	{Name: "team_members", Key: []string{"team_id", "agent_id"},
		Columns: cols("workspace_id team_id agent_id:int@agent")},
	{Name: "inboxes", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id kind:text name:text settings:json credentials:bytes created_at:time")},
	{Name: "contacts", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id name:text email:text phone:text attributes:json created_at:time updated_at:time opted_out_at:time")},
	{Name: "contact_identities", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id contact_id channel:text external_id:text created_at:time")},
	{Name: "labels", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id name:text color:text description:text created_at:time")},
	{Name: "conversations", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id inbox_id contact_id status:text snoozed_until:time assignee_id:int@agent team_id priority:text subject:text last_message_id last_activity_at:time created_at:time updated_at:time last_inbound_at:time")},
	{Name: "conversation_labels", Key: []string{"conversation_id", "label_id"},
		Columns: cols("workspace_id conversation_id label_id created_at:time")},
	{Name: "conversation_reads", Key: []string{"conversation_id", "agent_id"},
		Columns: cols("workspace_id conversation_id agent_id:int@agent last_read_at:time last_read_message_id")},
	{Name: "messages", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id conversation_id inbox_id direction:text author_kind:text author_agent_id:int@agent type:text body:text content:json provider_message_id:text idempotency_key:text status:text error:text ai_assisted:bool created_at:time updated_at:time")},
	{Name: "mentions", Key: []string{"message_id", "agent_id"},
		Columns: cols("workspace_id message_id agent_id:int@agent created_at:time")},
	{Name: "canned_responses", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id short_code:text content:text created_at:time updated_at:time")},
	{Name: "attachments", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id message_id kind:text content_type:text file_name:text size_bytes url:text storage_key:text provider_media_id:text created_at:time")},
	{Name: "outbox", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id message_id state:text attempts next_attempt_at:time locked_until:time last_error:text created_at:time updated_at:time")},
	{Name: "media", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id message_id inbox_id provider:text source:json mime_type:text filename:text caption:text state:text blob_key:text size sha256:text error:text attempts next_attempt_at:time locked_until:time created_at:time updated_at:time")},
	{Name: "events", Key: []string{"seq"},
		Columns: cols("workspace_id seq kind:text conversation_id payload:json created_at:time")},
	{Name: "audit_log", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id actor_kind:text actor_id:int@agent action:text target_kind:text target_id details:json created_at:time token_id")},
	{Name: "invitations", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id email:text role:text invited_by:int@agent created_at:time expires_at:time accepted_at:time accepted_by:int@agent revoked_at:time")},
	{Name: "dead_letters", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id inbox_id provider:text received_at:time body:bytes error:text")},
	{Name: "consent_records", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id contact_id kind:text channel:text source:text created_at:time")},
	{Name: "knowledge_articles", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id title:text body:text created_at:time updated_at:time")},
	{Name: "ai_settings", Key: []string{"workspace_id"},
		Columns: cols("workspace_id enabled:bool provider:text base_url:text model:text api_key:bytes instructions:text brand_voice:text redact:bool updated_at:time")},
	{Name: "contact_ai_off", Key: []string{"contact_id"},
		Columns: cols("workspace_id contact_id off_at:time")},
	{Name: "retention_settings", Key: []string{"workspace_id"},
		Columns: cols("workspace_id message_days media_days event_days updated_at:time")},
	{Name: "inbox_ai", Key: []string{"inbox_id"},
		Columns: cols("workspace_id inbox_id auto_reply:bool min_confidence:float updated_at:time")},
	{Name: "conversation_handoffs", Key: []string{"conversation_id"},
		Columns: cols("workspace_id conversation_id handed_over_at:time reason:text")},
	{Name: "conversation_summaries", Key: []string{"conversation_id"},
		Columns: cols("workspace_id conversation_id summary:text sentiment:text intent:text lead:bool model:text created_at:time")},
	{Name: "erasure_requests", Key: []string{"id"}, Identity: true,
		Columns: cols("id workspace_id source:text contact_ids:json requested_by:int@agent token_id status:text code:text counts:json attempts error:text requested_at:time completed_at:time")},
}

// ArchiveTableNamed returns the archived table named name, or nil.
func ArchiveTableNamed(name string) *ArchiveTable {
	for i := range ArchiveTables {
		if ArchiveTables[i].Name == name {
			return &ArchiveTables[i]
		}
	}
	return nil
}

// ArchiveExcluded are the tables (by name) and columns ("table.column")
// of the schema a workspace archive leaves out on purpose, with why. A
// name ending in "*" covers every table it is a prefix of.
var ArchiveExcluded = map[string]string{
	"goose_db_version": "the migrations' own bookkeeping; the target has its own",
	"sessions":         "browser sessions are local to a server: members sign in again on the target",
	"contacts_fts*":    "SQLite's full-text index of contacts, rebuilt by its triggers as contacts are imported",
	"messages_fts*":    "SQLite's full-text index of messages, rebuilt by its triggers as messages are imported",
	"sqlite_*":         "SQLite's internal tables",
	"workspaces.published_seq": "the relay's mark of what it published to this server's hub; " +
		"an import sets it to the last event, so the target does not publish old events again",
	"contacts.search":      "Postgres's generated full-text vector, computed again from the imported row",
	"messages.body_search": "Postgres's generated full-text vector, computed again from the imported row",
}

// ArchiveExcludes reports whether ArchiveExcluded names the table or
// "table.column" name, and why.
func ArchiveExcludes(name string) (string, bool) {
	if why, ok := ArchiveExcluded[name]; ok {
		return why, true
	}
	for k, why := range ArchiveExcluded {
		if p, ok := strings.CutSuffix(k, "*"); ok && strings.HasPrefix(name, p) && !strings.Contains(name, ".") {
			return why, true
		}
	}
	return "", false
}

// AuditWorkspaceExported is the audit action of a workspace archive
// taken (server/archive); its details say how ("api" or "cli").
const AuditWorkspaceExported = "workspace.exported"
