package drafts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/switchboard-inbox/switchboard/server/ai"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// DefaultSummaryHistory is how many of a conversation's newest messages a
// summary reads.
const DefaultSummaryHistory = 200

// summaryStore is what summaries need beyond drafts.
type summaryStore interface {
	SetConversationSummary(ctx context.Context, workspaceID, conversationID int64, sum store.ConversationSummary) (store.ConversationSummary, error)
}

// Summarize computes the conversation's summary, sentiment, intent and
// lead label offline from its messages (notes left out), stores it in
// place of any earlier one and returns it. The conversation must be the
// workspace's (store.ErrNotFound) and AI on for the workspace and the
// contact (ErrWorkspaceAIOff, ErrContactAIOff): then nothing is computed
// or stored. Summaries never go to a model, whatever the provider.
func (s *Service) Summarize(ctx context.Context, workspaceID, conversationID int64) (store.ConversationSummary, error) {
	conv, err := s.st.Conversation(ctx, workspaceID, conversationID)
	if err != nil {
		return store.ConversationSummary{}, err
	}
	if _, err := s.allowed(ctx, conv); err != nil {
		return store.ConversationSummary{}, err
	}
	msgs, err := s.st.ListMessages(ctx, workspaceID, conversationID, store.MessageFilter{Limit: DefaultSummaryHistory})
	if err != nil {
		return store.ConversationSummary{}, fmt.Errorf("drafts: summarize: %w", err)
	}
	sum := ai.Summarize(ai.SummaryInput{History: history(msgs)})
	return s.st.SetConversationSummary(ctx, workspaceID, conversationID, store.ConversationSummary{
		Summary:   sum.Text,
		Sentiment: string(sum.Sentiment),
		Intent:    string(sum.Intent),
		Lead:      sum.Lead,
		Model:     sum.Model,
	})
}

// queueSummary queues a summary of a just resolved conversation; a full
// queue drops it, logged (an agent can still ask for one).
func (s *Service) queueSummary(workspaceID, conversationID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.summaries <- convKey{workspaceID, conversationID}:
	default:
		s.log.Warn("drafts: summary queue full, summary dropped", slog.Int64("workspace", workspaceID),
			slog.Int64("conversation", conversationID))
	}
}

// summarize runs the queued summaries, one at a time, until ctx ends.
func (s *Service) summarize(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case k := <-s.summaries:
			sctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
			_, err := s.Summarize(sctx, k.workspace, k.conversation)
			cancel()
			log := s.log.With(slog.Int64("workspace", k.workspace), slog.Int64("conversation", k.conversation))
			switch {
			case err == nil:
				log.Debug("drafts: conversation summarized")
			case errors.Is(err, ErrWorkspaceAIOff), errors.Is(err, ErrContactAIOff):
				log.Debug("drafts: no summary, AI is off", slog.Any("err", err))
			default:
				log.Warn("drafts: summarize", slog.Any("err", err))
			}
		}
	}
}
