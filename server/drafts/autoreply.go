package drafts

// Auto-replies: in an inbox with auto_reply on (store.InboxAI), a draft
// triggered by an inbound message is also sent to the customer, as an
// outbound message written by the AI, when it is confident enough; a
// customer asking for a person (ai.AsksForHuman) hands the conversation
// over to the team instead, for good. Everything else about the draft is
// unchanged: it is streamed to agents either way, and AI off for the
// workspace or the contact stops it before anything is read here.

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/ai"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// autoReplyStore is what auto-replies need from storage.
type autoReplyStore interface {
	InboxAI(ctx context.Context, workspaceID, inboxID int64) (store.InboxAI, error)
	HandOver(ctx context.Context, workspaceID, conversationID int64, reason string) (store.Handoff, bool, error)
	ConversationHandoff(ctx context.Context, workspaceID, conversationID int64) (store.Handoff, error)
	AddLabel(ctx context.Context, workspaceID, conversationID int64, label string) (store.Conversation, store.Event, error)
	UpdateConversation(ctx context.Context, workspaceID, conversationID int64, u store.ConversationUpdate) (store.Conversation, store.Event, error)
	CreateMessage(ctx context.Context, workspaceID int64, m store.NewMessage) (store.CreatedMessage, error)
}

const (
	// MaxAutoReplyAge: a customer message older than this (the server
	// was down, a backlog is being caught up on) gets no auto-reply, only
	// a draft; it is checked when the draft starts and again before the
	// reply is sent.
	MaxAutoReplyAge = 3 * time.Minute
	// HandoffLabel is the label a handed-over conversation gets.
	HandoffLabel = "handoff"
	// HandoffReason is the recorded reason of a hand-over the customer
	// asked for.
	HandoffReason = "Handed over to the team: the customer asked for a person"
)

// autoPlan says whether a draft is to be sent by itself, and how
// confident it must be.
type autoPlan struct {
	on            bool
	minConfidence float64
}

// planAutoReply decides whether j's draft may become an auto-reply: only a
// draft triggered by a recent inbound message, in an inbox with auto-reply
// on, in a conversation not handed over. A customer asking for a person
// hands the conversation over here (and the draft stays a draft). The
// caller has checked that AI is on for the workspace and the contact.
// Failures are logged and mean no auto-reply.
func (s *Service) planAutoReply(ctx context.Context, log *slog.Logger, j job, conv store.Conversation, in ai.Input) autoPlan {
	if j.requested || j.inbound == 0 || time.Since(j.at) > MaxAutoReplyAge {
		return autoPlan{}
	}
	settings, err := s.st.InboxAI(ctx, conv.WorkspaceID, conv.InboxID)
	if err != nil {
		log.Warn("drafts: read the inbox's auto-reply settings", slog.Int64("inbox", conv.InboxID), slog.Any("err", err))
		return autoPlan{}
	}
	if !settings.AutoReply {
		return autoPlan{}
	}
	_, err = s.st.ConversationHandoff(ctx, conv.WorkspaceID, conv.ID)
	switch {
	case err == nil: // handed over: the team answers
		return autoPlan{}
	case !errors.Is(err, store.ErrNotFound):
		log.Warn("drafts: read the conversation's hand-over", slog.Any("err", err))
		return autoPlan{}
	}
	if ai.AsksForHuman(latestCustomerText(in.History)) {
		s.handOver(ctx, log, conv)
		return autoPlan{}
	}
	return autoPlan{on: true, minConfidence: settings.MinConfidence}
}

// latestCustomerText joins the customer's messages after the last reply,
// so "can I talk to a human?" followed by "please" still asks for one.
func latestCustomerText(history []ai.Turn) string {
	var parts []string
	for i := len(history) - 1; i >= 0 && history[i].Role == ai.RoleCustomer; i-- {
		parts = append(parts, history[i].Text)
	}
	return strings.Join(parts, "\n")
}

// handOver records the conversation's hand-over and, the first time,
// labels it HandoffLabel and raises its priority to high, both through the
// store's conversation updates so that agents see them live.
func (s *Service) handOver(ctx context.Context, log *slog.Logger, conv store.Conversation) {
	_, first, err := s.st.HandOver(ctx, conv.WorkspaceID, conv.ID, HandoffReason)
	if err != nil {
		log.Warn("drafts: hand over", slog.Any("err", err))
		return
	}
	if !first {
		return
	}
	log.Info("drafts: conversation handed over to the team")
	if _, _, err := s.st.AddLabel(ctx, conv.WorkspaceID, conv.ID, HandoffLabel); err != nil {
		log.Warn("drafts: label the handed-over conversation", slog.Any("err", err))
	}
	high := store.PriorityHigh
	if _, _, err := s.st.UpdateConversation(ctx, conv.WorkspaceID, conv.ID, store.ConversationUpdate{Priority: &high}); err != nil {
		log.Warn("drafts: raise the handed-over conversation's priority", slog.Any("err", err))
	}
	// A note tells the agents why, in the conversation itself.
	if _, err := s.st.CreateMessage(ctx, conv.WorkspaceID, store.NewMessage{
		ConversationID: conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorSystem, Type: store.TypeNote,
		Body: HandoffReason + ". The AI will not reply in this conversation by itself again.",
	}); err != nil {
		log.Warn("drafts: note the hand-over", slog.Any("err", err))
	}
}

// Confidence is how sure the service is of draft d: the offline
// suggester's own figure, or, for a model, which gives none, the coverage
// of the best knowledge-base source it was given (0 with none: a model
// answering from nothing is never sent by itself unless the inbox's
// minimum confidence is 0).
func Confidence(d ai.Draft, in ai.Input) float64 {
	if d.Model == ai.OfflineModel || d.Confidence > 0 {
		return d.Confidence
	}
	if len(in.Knowledge) > 0 {
		return in.Knowledge[0].Coverage
	}
	return 0
}

// autoReply sends draft d as the AI's reply if it is confident enough,
// still wanted (ctx not canceled by a newer message or an agent's reply)
// and still timely. The idempotency key, from the triggering message,
// keeps a replayed trigger from sending twice; the channel's rules
// (store.PolicyError) may refuse it, which just means no auto-reply.
func (s *Service) autoReply(ctx context.Context, log *slog.Logger, j job, conv store.Conversation, plan autoPlan, d ai.Draft, in ai.Input) {
	conf := Confidence(d, in)
	switch {
	case conf < plan.minConfidence:
		log.Debug("drafts: not confident enough to auto-reply", slog.Float64("confidence", conf))
		return
	case ctx.Err() != nil, time.Since(j.at) > MaxAutoReplyAge, strings.TrimSpace(d.Text) == "":
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeReadTimeout)
	defer cancel()
	m, err := s.st.CreateMessage(wctx, conv.WorkspaceID, store.NewMessage{
		ConversationID: conv.ID,
		Direction:      store.DirectionOut,
		AuthorKind:     store.AuthorAI,
		Type:           store.TypeText,
		Body:           d.Text,
		AIAssisted:     true,
		IdempotencyKey: "ai-auto-reply:" + strconv.FormatInt(j.inbound, 10),
	})
	var pe *store.PolicyError
	switch {
	case errors.As(err, &pe):
		log.Info("drafts: the channel's rules refuse the auto-reply", slog.String("code", pe.Code))
	case err != nil:
		log.Warn("drafts: send the auto-reply", slog.Any("err", err))
	case !m.Duplicate:
		log.Info("drafts: auto-replied", slog.Int64("message", m.Message.ID), slog.Float64("confidence", conf))
	}
}
