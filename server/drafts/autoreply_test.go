package drafts_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/ai"
	"github.com/switchboard-inbox/switchboard/server/drafts"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// aiMessages returns the AI's messages in the conversation.
func aiMessages(t testing.TB, st store.Store, workspaceID, conversationID int64) []store.Message {
	t.Helper()
	msgs, err := st.ListMessages(ctx(t), workspaceID, conversationID, store.MessageFilter{Limit: 100})
	must(t, err)
	var out []store.Message
	for _, m := range msgs {
		if m.AuthorKind == store.AuthorAI {
			out = append(out, m)
		}
	}
	return out
}

// waitAIMessage polls until the conversation has an AI message (a hang,
// not a timing assertion).
func waitAIMessage(t testing.TB, st store.Store, workspaceID, conversationID int64) store.Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if msgs := aiMessages(t, st, workspaceID, conversationID); len(msgs) > 0 {
			return msgs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no AI message in conversation %d", conversationID)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// autoTenant is an offline workspace with the knowledge base whose inbox
// auto-replies at minConfidence.
func (r *rig) autoTenant(t testing.TB, minConfidence float64) tenant {
	t.Helper()
	tn := r.workspace(t, true)
	for _, na := range knowledgeBase {
		_, err := r.st.CreateKnowledgeArticle(ctx(t), tn.ws.ID, na)
		must(t, err)
	}
	_, err := r.st.SetInboxAI(ctx(t), tn.ws.ID, tn.inbox.ID, store.InboxAI{AutoReply: true, MinConfidence: minConfidence})
	must(t, err)
	return tn
}

const (
	shippingQuestion = "How long does shipping to Europe take?"
	// vagueQuestion gets an offline draft, but a less confident one.
	vagueQuestion = "How long does shipping to Europe take for my fragile antique clock?"
)

// TestAutoReply: in an inbox with auto-reply on, a confident draft is sent
// as the AI's message; a less confident one stays a draft; a customer
// asking for a person hands the conversation over (labelled, high
// priority, no AI message, no auto-reply ever after); AI off for the
// contact or the workspace, or an inbox without auto-reply, sends nothing.
func TestAutoReply(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		// One worker: a draft and its auto-reply finish before the next
		// draft starts, so a sentinel draft ending proves the earlier
		// ones are done.
		r := newRig(t, st, drafts.Options{Workers: 1})
		plain := r.workspace(t, true) // auto-reply off
		for _, na := range knowledgeBase {
			_, err := r.st.CreateKnowledgeArticle(ctx(t), plain.ws.ID, na)
			must(t, err)
		}
		sentinel := r.conversation(t, plain, "Sam")
		sentinels := 0
		waitSentinel := func() {
			t.Helper()
			sentinels++
			r.inbound(t, plain, sentinel, shippingQuestion+" "+itoa(int64(sentinels)))
			checkStream(t, r.rec.ended(t, r.rec.draftIn(t, drafts.Channel(sentinel.ID), sentinels)))
		}
		tn := r.autoTenant(t, 0.5)

		t.Run("confident", func(t *testing.T) {
			conv := r.conversation(t, tn, "Carol")
			r.inbound(t, tn, conv, shippingQuestion)
			m := waitAIMessage(t, r.st, tn.ws.ID, conv.ID)
			if m.Direction != store.DirectionOut || !m.AIAssisted || m.Type != store.TypeText ||
				!strings.Contains(m.Body, "3 to 5 business days") || m.Status != store.DeliveryQueued {
				t.Fatalf("auto-reply %+v", m)
			}
			waitSentinel()
			if n := len(aiMessages(t, r.st, tn.ws.ID, conv.ID)); n != 1 {
				t.Fatalf("%d AI messages, want 1", n)
			}
		})

		t.Run("not confident", func(t *testing.T) {
			strict := r.autoTenant(t, 0.99)
			conv := r.conversation(t, strict, "Vera")
			r.inbound(t, strict, conv, vagueQuestion)
			d := checkStream(t, r.rec.ended(t, r.rec.draftIn(t, drafts.Channel(conv.ID), 1)))
			if d.Model != ai.OfflineModel {
				t.Fatalf("draft %+v", d)
			}
			waitSentinel()
			if msgs := aiMessages(t, r.st, strict.ws.ID, conv.ID); len(msgs) != 0 {
				t.Fatalf("an unconfident draft was sent: %+v", msgs)
			}
		})

		t.Run("hand-over", func(t *testing.T) {
			conv := r.conversation(t, tn, "Hugo")
			r.inbound(t, tn, conv, "Can I talk to a human?")
			waitSentinel()
			h, err := r.st.ConversationHandoff(ctx(t), tn.ws.ID, conv.ID)
			must(t, err)
			if h.Reason != drafts.HandoffReason {
				t.Fatalf("hand-over %+v", h)
			}
			got, err := r.st.Conversation(ctx(t), tn.ws.ID, conv.ID)
			must(t, err)
			if !slices.Contains(got.Labels, drafts.HandoffLabel) || got.Priority != store.PriorityHigh {
				t.Fatalf("handed-over conversation %+v", got)
			}
			// The team is told why, in a note from the system.
			msgs, err := r.st.ListMessages(ctx(t), tn.ws.ID, conv.ID, store.MessageFilter{Limit: 50})
			must(t, err)
			if !slices.ContainsFunc(msgs, func(m store.Message) bool {
				return m.Type == store.TypeNote && m.AuthorKind == store.AuthorSystem && strings.Contains(m.Body, drafts.HandoffReason)
			}) {
				t.Fatalf("no hand-over note among %+v", msgs)
			}
			// A question it could answer gets a draft for the team, but
			// no auto-reply.
			r.inbound(t, tn, conv, shippingQuestion)
			checkStream(t, r.rec.ended(t, r.rec.draftIn(t, drafts.Channel(conv.ID), 2)))
			waitSentinel()
			if msgs := aiMessages(t, r.st, tn.ws.ID, conv.ID); len(msgs) != 0 {
				t.Fatalf("AI messages after the hand-over: %+v", msgs)
			}
		})

		t.Run("a mention is no hand-over", func(t *testing.T) {
			conv := r.conversation(t, tn, "Ines")
			r.inbound(t, tn, conv, "The agent said shipping to Europe takes a while. How long does shipping to Europe take?")
			waitAIMessage(t, r.st, tn.ws.ID, conv.ID)
			_, err := r.st.ConversationHandoff(ctx(t), tn.ws.ID, conv.ID)
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("handed over on a mere mention: %v", err)
			}
		})

		t.Run("contact AI off", func(t *testing.T) {
			conv := r.conversation(t, tn, "Pia")
			_, err := r.st.SetContactAI(ctx(t), tn.ws.ID, conv.ContactID, store.AIConsentChange{Enabled: false, Channel: "api", Source: "agent:1"})
			must(t, err)
			r.inbound(t, tn, conv, shippingQuestion)
			r.inbound(t, tn, conv, "I want a human")
			waitSentinel()
			if msgs := aiMessages(t, r.st, tn.ws.ID, conv.ID); len(msgs) != 0 {
				t.Fatalf("AI messages for a contact with AI off: %+v", msgs)
			}
			if _, err := r.st.ConversationHandoff(ctx(t), tn.ws.ID, conv.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a contact with AI off was handed over by the AI: %v", err)
			}
		})

		t.Run("workspace AI off", func(t *testing.T) {
			off := r.autoTenant(t, 0.5)
			s, err := r.st.AISettings(ctx(t), off.ws.ID)
			must(t, err)
			s.Enabled = false
			_, err = r.st.SetAISettings(ctx(t), off.ws.ID, s)
			must(t, err)
			conv := r.conversation(t, off, "Olga")
			r.inbound(t, off, conv, shippingQuestion)
			waitSentinel()
			if msgs := aiMessages(t, r.st, off.ws.ID, conv.ID); len(msgs) != 0 {
				t.Fatalf("AI messages in a workspace with AI off: %+v", msgs)
			}
		})

		t.Run("inbox without auto-reply", func(t *testing.T) {
			waitSentinel()
			if msgs := aiMessages(t, r.st, plain.ws.ID, sentinel.ID); len(msgs) != 0 {
				t.Fatalf("AI messages in an inbox without auto-reply: %+v", msgs)
			}
		})
	})
}

// TestAutoReplyBacklog: a customer message that arrived minutes ago (the
// server was down) gets a draft, but no auto-reply. The service is fed by
// hand, without a relay, to replay an old message.
func TestAutoReplyBacklog(t *testing.T) {
	st := teststore.SQLite(t)
	pub := &recorder{next: discard{}}
	svc := drafts.New(st, pub, drafts.Options{Workers: 1})
	c, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { svc.Run(c) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	r := &rig{st: st}
	tn := r.autoTenant(t, 0.5)

	feed := func(conv store.Conversation, at time.Time) {
		t.Helper()
		cm, err := st.CreateMessage(ctx(t), tn.ws.ID, store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionIn,
			Body: shippingQuestion, ProviderMessageID: unique("msg")})
		must(t, err)
		m := cm.Message
		if !at.IsZero() {
			m.CreatedAt = at
		}
		payload, err := json.Marshal(store.MessagePayload{Message: m, Conversation: conv})
		must(t, err)
		svc.OnEvents(tn.ws.ID, []store.Event{{WorkspaceID: tn.ws.ID, Seq: cm.Events[0].Seq, Kind: store.EventMessageCreated,
			ConversationID: conv.ID, Payload: payload}})
	}
	old := r.conversation(t, tn, "Bea")
	feed(old, time.Now().Add(-drafts.MaxAutoReplyAge-time.Minute))
	checkStream(t, pub.ended(t, pub.draftIn(t, drafts.Channel(old.ID), 1)))
	// One worker: once a later message's auto-reply is there, the old
	// message's draft has long finished.
	fresh := r.conversation(t, tn, "Fay")
	feed(fresh, time.Time{})
	waitAIMessage(t, st, tn.ws.ID, fresh.ID)
	if msgs := aiMessages(t, st, tn.ws.ID, old.ID); len(msgs) != 0 {
		t.Fatalf("an old message got an auto-reply: %+v", msgs)
	}
}

// discard is a publisher that drops everything.
type discard struct{}

func (discard) Publish(context.Context, *hub.App, hub.Event) error { return nil }
