package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const articleCols = `id, workspace_id, title, body, created_at, updated_at`

func scanArticle(row pgx.Row) (store.KnowledgeArticle, error) {
	var a store.KnowledgeArticle
	err := row.Scan(&a.ID, &a.WorkspaceID, &a.Title, &a.Body, &a.CreatedAt, &a.UpdatedAt)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, notFound(err)
}

// ListKnowledgeArticles returns the workspace's articles, oldest first.
func (s *Store) ListKnowledgeArticles(ctx context.Context, workspaceID int64) ([]store.KnowledgeArticle, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+articleCols+` FROM knowledge_articles WHERE workspace_id = $1 ORDER BY id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list knowledge articles: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.KnowledgeArticle, error) { return scanArticle(r) })
	if err != nil {
		return nil, fmt.Errorf("store: list knowledge articles: %w", err)
	}
	if out == nil {
		out = []store.KnowledgeArticle{}
	}
	return out, nil
}

// KnowledgeArticle returns one article of the workspace.
func (s *Store) KnowledgeArticle(ctx context.Context, workspaceID, id int64) (store.KnowledgeArticle, error) {
	a, err := scanArticle(s.pool.QueryRow(ctx, `SELECT `+articleCols+` FROM knowledge_articles WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	if err != nil {
		return store.KnowledgeArticle{}, fmt.Errorf("store: knowledge article %d: %w", id, err)
	}
	return a, nil
}

// CreateKnowledgeArticle saves an article, under the workspace's row lock
// so that concurrent creations cannot pass MaxKnowledgeArticles.
func (s *Store) CreateKnowledgeArticle(ctx context.Context, workspaceID int64, na store.NewKnowledgeArticle) (store.KnowledgeArticle, error) {
	if err := na.Normalize(); err != nil {
		return store.KnowledgeArticle{}, fmt.Errorf("store: create knowledge article: %w", err)
	}
	var a store.KnowledgeArticle
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var n int
		err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM knowledge_articles WHERE workspace_id = w.id)
			FROM workspaces w WHERE w.id = $1 FOR NO KEY UPDATE`, workspaceID).Scan(&n)
		if err != nil {
			return notFound(err)
		}
		if n >= store.MaxKnowledgeArticles {
			return fmt.Errorf("%w: the workspace has %d knowledge articles, the most it may have", store.ErrConflict, n)
		}
		now := store.Now()
		a, err = scanArticle(tx.QueryRow(ctx, `INSERT INTO knowledge_articles (workspace_id, title, body, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) RETURNING `+articleCols, workspaceID, na.Title, na.Body, now))
		return err
	})
	if err != nil {
		return store.KnowledgeArticle{}, fmt.Errorf("store: create knowledge article: %w", err)
	}
	return a, nil
}

// UpdateKnowledgeArticle applies u under the article's row lock.
func (s *Store) UpdateKnowledgeArticle(ctx context.Context, workspaceID, id int64, u store.KnowledgeArticleUpdate) (store.KnowledgeArticle, error) {
	var a store.KnowledgeArticle
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := scanArticle(tx.QueryRow(ctx, `SELECT `+articleCols+` FROM knowledge_articles
			WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, workspaceID, id))
		if err != nil {
			return err
		}
		next, err := u.Apply(cur)
		if err != nil {
			return err
		}
		a, err = scanArticle(tx.QueryRow(ctx, `UPDATE knowledge_articles SET title = $1, body = $2, updated_at = $3
			WHERE workspace_id = $4 AND id = $5 RETURNING `+articleCols, next.Title, next.Body, store.Now(), workspaceID, id))
		return err
	})
	if err != nil {
		return store.KnowledgeArticle{}, fmt.Errorf("store: update knowledge article %d: %w", id, err)
	}
	return a, nil
}

// DeleteKnowledgeArticle deletes an article.
func (s *Store) DeleteKnowledgeArticle(ctx context.Context, workspaceID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM knowledge_articles WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: delete knowledge article %d: %w", id, err)
	}
	return nil
}

// KnowledgeVersion fingerprints the workspace's articles.
func (s *Store) KnowledgeVersion(ctx context.Context, workspaceID int64) (string, error) {
	var (
		n, maxID, sumID int64
		latest          *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT count(*), coalesce(max(id), 0), coalesce(sum(id), 0)::BIGINT, max(updated_at)
		FROM knowledge_articles WHERE workspace_id = $1`, workspaceID).Scan(&n, &maxID, &sumID, &latest)
	if err != nil {
		return "", fmt.Errorf("store: knowledge version: %w", err)
	}
	var at int64
	if latest != nil {
		at = latest.UnixMicro()
	}
	return fmt.Sprintf("%d-%d-%d-%d", n, maxID, sumID, at), nil
}

// AISettings returns the workspace's AI settings or the defaults.
func (s *Store) AISettings(ctx context.Context, workspaceID int64) (store.AISettings, error) {
	a, err := aiSettingsIn(ctx, s.pool, workspaceID)
	if err != nil {
		return store.AISettings{}, fmt.Errorf("store: ai settings: %w", err)
	}
	return a, nil
}

func aiSettingsIn(ctx context.Context, q querier, workspaceID int64) (store.AISettings, error) {
	a := store.AISettings{WorkspaceID: workspaceID}
	var at time.Time
	err := q.QueryRow(ctx, `SELECT enabled, provider, base_url, model, api_key, instructions, brand_voice, redact, updated_at
		FROM ai_settings WHERE workspace_id = $1`, workspaceID).Scan(
		&a.Enabled, &a.Provider, &a.BaseURL, &a.Model, &a.APIKey, &a.Instructions, &a.BrandVoice, &a.Redact, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		var one int
		if err := q.QueryRow(ctx, `SELECT 1 FROM workspaces WHERE id = $1`, workspaceID).Scan(&one); err != nil {
			return store.AISettings{}, notFound(err)
		}
		return store.DefaultAISettings(workspaceID), nil
	}
	if err != nil {
		return store.AISettings{}, err
	}
	at = at.UTC()
	a.UpdatedAt = &at
	return a, nil
}

// SetAISettings validates and saves the workspace's AI settings.
func (s *Store) SetAISettings(ctx context.Context, workspaceID int64, a store.AISettings) (store.AISettings, error) {
	if err := a.Validate(); err != nil {
		return store.AISettings{}, fmt.Errorf("store: set ai settings: %w", err)
	}
	var out store.AISettings
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO ai_settings (workspace_id, enabled, provider, base_url, model, api_key, instructions, brand_voice, redact, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (workspace_id) DO UPDATE SET enabled = excluded.enabled, provider = excluded.provider,
				base_url = excluded.base_url, model = excluded.model, api_key = excluded.api_key,
				instructions = excluded.instructions, brand_voice = excluded.brand_voice, redact = excluded.redact,
				updated_at = excluded.updated_at`,
			workspaceID, a.Enabled, a.Provider, a.BaseURL, a.Model, a.APIKey, a.Instructions, a.BrandVoice, a.Redact, store.Now())
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		out, err = aiSettingsIn(ctx, tx, workspaceID)
		return err
	})
	if err != nil {
		return store.AISettings{}, fmt.Errorf("store: set ai settings: %w", err)
	}
	return out, nil
}

// SetContactAI turns a contact's AI processing off or on, with a consent
// record, under the contact's row lock.
func (s *Store) SetContactAI(ctx context.Context, workspaceID, contactID int64, cc store.AIConsentChange) (bool, error) {
	changed := false
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := contactIn(ctx, tx, workspaceID, contactID, lockForEdit); err != nil {
			return err
		}
		off, err := contactAIOffAt(ctx, tx, workspaceID, contactID)
		if err != nil {
			return err
		}
		if (off == nil) == cc.Enabled {
			return nil
		}
		now := store.Now()
		kind := store.ConsentAIOn
		if cc.Enabled {
			_, err = tx.Exec(ctx, `DELETE FROM contact_ai_off WHERE workspace_id = $1 AND contact_id = $2`, workspaceID, contactID)
		} else {
			kind = store.ConsentAIOff
			_, err = tx.Exec(ctx, `INSERT INTO contact_ai_off (workspace_id, contact_id, off_at) VALUES ($1, $2, $3)`, workspaceID, contactID, now)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO consent_records (workspace_id, contact_id, kind, channel, source, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, workspaceID, contactID, kind, cc.Channel, cc.Source, now); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: set contact %d ai: %w", contactID, err)
	}
	return changed, nil
}

// ContactAIOffAt returns when the contact's AI processing was turned off.
func (s *Store) ContactAIOffAt(ctx context.Context, workspaceID, contactID int64) (*time.Time, error) {
	if _, err := contactIn(ctx, s.pool, workspaceID, contactID, noLock); err != nil {
		return nil, fmt.Errorf("store: contact %d ai: %w", contactID, err)
	}
	off, err := contactAIOffAt(ctx, s.pool, workspaceID, contactID)
	if err != nil {
		return nil, fmt.Errorf("store: contact %d ai: %w", contactID, err)
	}
	return off, nil
}

func contactAIOffAt(ctx context.Context, q querier, workspaceID, contactID int64) (*time.Time, error) {
	var at time.Time
	err := q.QueryRow(ctx, `SELECT off_at FROM contact_ai_off WHERE workspace_id = $1 AND contact_id = $2`, workspaceID, contactID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	at = at.UTC()
	return &at, nil
}

// pastReplyMessages bounds how many of a conversation's first messages
// PastReplies reads.
const pastReplyMessages = 20

// PastReplies returns the opening exchanges of recently resolved
// conversations.
func (s *Store) PastReplies(ctx context.Context, workspaceID int64, limit int) ([]store.PastReply, error) {
	rows, err := s.pool.Query(ctx, `SELECT conversation_id, direction, author_kind, type, body, created_at FROM (
			SELECT m.conversation_id, m.id, m.direction, m.author_kind, m.type, m.body, m.created_at,
				row_number() OVER (PARTITION BY m.conversation_id ORDER BY m.id) AS n
			FROM messages m JOIN (
				SELECT c.id FROM conversations c
				WHERE c.workspace_id = $1 AND c.status = 'resolved'
				AND NOT EXISTS (SELECT 1 FROM contact_ai_off o WHERE o.workspace_id = c.workspace_id AND o.contact_id = c.contact_id)
				ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $2
			) rc ON rc.id = m.conversation_id
			WHERE m.workspace_id = $1
		) x WHERE n <= $3 ORDER BY conversation_id, id`, workspaceID, limit, pastReplyMessages)
	if err != nil {
		return nil, fmt.Errorf("store: past replies: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.PastReplyMessage, error) {
		var m store.PastReplyMessage
		err := r.Scan(&m.ConversationID, &m.Direction, &m.AuthorKind, &m.Type, &m.Body, &m.At)
		m.At = m.At.UTC()
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: past replies: %w", err)
	}
	return store.PairReplies(msgs), nil
}
