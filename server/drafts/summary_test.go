package drafts_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/ai"
	"github.com/switchboard-inbox/switchboard/server/drafts"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// summaryRig is a rig whose workspace has offline AI on (the default),
// set explicitly.
func summaryRig(t *testing.T, st store.Store) (*rig, tenant) {
	t.Helper()
	r := newRig(t, st, drafts.Options{})
	tn := r.workspace(t, true)
	_, err := r.st.SetAISettings(ctx(t), tn.ws.ID, store.AISettings{Enabled: true, Provider: store.AIProviderOffline})
	must(t, err)
	return r, tn
}

// TestSummarize: a summary is computed from the customer's messages
// (never notes), stored in place of the earlier one and returned; AI off
// for the workspace or the contact computes and stores nothing; another
// workspace's conversation is not found.
func TestSummarize(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		r, tn := summaryRig(t, st)
		conv := r.conversation(t, tn, "Pia")
		r.inbound(t, tn, conv, "Hi. My parcel 7781 arrived damaged and the lid is broken.")
		r.agent(t, tn, conv, store.TypeNote, "Internal: she wants to cancel, offer the enterprise pricing demo.")
		r.agent(t, tn, conv, store.TypeText, "Sorry to hear that! Would you like a refund or a replacement?")
		r.inbound(t, tn, conv, "A refund please, send it to pia@example.com.")

		got, err := r.svc.Summarize(ctx(t), tn.ws.ID, conv.ID)
		must(t, err)
		if got.ConversationID != conv.ID || got.Sentiment != "negative" || got.Intent != "complaint" || got.Lead || got.Model != ai.SummaryModel {
			t.Fatalf("summary %+v", got)
		}
		want := "My parcel 7781 arrived damaged and the lid is broken. A refund please, send it to [email]."
		if got.Summary != want {
			t.Fatalf("summary text\n got %q\nwant %q", got.Summary, want)
		}
		stored, err := r.st.ConversationSummary(ctx(t), tn.ws.ID, conv.ID)
		must(t, err)
		if stored != got {
			t.Fatalf("stored %+v, returned %+v", stored, got)
		}

		// Recomputed after a new message, it replaces the earlier one.
		r.inbound(t, tn, conv, "Actually, how much is the premium plan? I may buy it instead.")
		again, err := r.svc.Summarize(ctx(t), tn.ws.ID, conv.ID)
		must(t, err)
		if again.Intent != "complaint" || !again.Lead || !strings.Contains(again.Summary, "premium plan") {
			t.Fatalf("recomputed %+v", again)
		}

		// Another workspace's conversation, and an unknown one.
		other := r.workspace(t, true)
		if _, err := r.svc.Summarize(ctx(t), other.ws.ID, conv.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other workspace: %v", err)
		}
		if _, err := r.svc.Summarize(ctx(t), tn.ws.ID, 1<<40); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown conversation: %v", err)
		}

		// AI off for the contact, then for the workspace: nothing stored.
		private := r.conversation(t, tn, "Quinn")
		r.inbound(t, tn, private, "Please cancel my subscription.")
		_, err = r.st.SetContactAI(ctx(t), tn.ws.ID, private.ContactID, store.AIConsentChange{Enabled: false, Channel: "api", Source: "agent:1"})
		must(t, err)
		if _, err := r.svc.Summarize(ctx(t), tn.ws.ID, private.ID); !errors.Is(err, drafts.ErrContactAIOff) {
			t.Fatalf("contact off: %v", err)
		}
		off := r.workspace(t, true)
		_, err = r.st.SetAISettings(ctx(t), off.ws.ID, store.AISettings{Enabled: false, Provider: store.AIProviderOffline})
		must(t, err)
		offConv := r.conversation(t, off, "Rae")
		r.inbound(t, off, offConv, "Where is my order?")
		if _, err := r.svc.Summarize(ctx(t), off.ws.ID, offConv.ID); !errors.Is(err, drafts.ErrWorkspaceAIOff) {
			t.Fatalf("workspace off: %v", err)
		}
		for _, c := range []store.Conversation{private, offConv} {
			if _, err := r.st.ConversationSummary(ctx(t), c.WorkspaceID, c.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("conversation %d summarized with AI off: %v", c.ID, err)
			}
		}
	})
}

// TestSummaryOnResolve: resolving a conversation summarizes it in the
// background; a conversation whose contact has AI off gets none.
func TestSummaryOnResolve(t *testing.T) {
	r, tn := summaryRig(t, teststore.SQLite(t))
	private := r.conversation(t, tn, "Sam")
	r.inbound(t, tn, private, "I hate this, cancel everything.")
	_, err := r.st.SetContactAI(ctx(t), tn.ws.ID, private.ContactID, store.AIConsentChange{Enabled: false, Channel: "api", Source: "agent:1"})
	must(t, err)
	conv := r.conversation(t, tn, "Tia")
	r.inbound(t, tn, conv, "Could I get a quote for 50 seats?")

	// The private one first: summaries run in order, one at a time.
	for _, c := range []store.Conversation{private, conv} {
		_, _, err := r.st.UpdateConversation(ctx(t), tn.ws.ID, c.ID, store.ConversationUpdate{Status: ptr(store.StatusResolved)})
		must(t, err)
		r.relay.Notify(tn.ws.ID)
	}

	var got store.ConversationSummary
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err = r.st.ConversationSummary(ctx(t), tn.ws.ID, conv.ID)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrNotFound) || time.Now().After(deadline) {
			t.Fatalf("no summary after resolving: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got.Summary != "Could I get a quote for 50 seats?" || !got.Lead || got.Intent != "purchase" {
		t.Fatalf("summary on resolve %+v", got)
	}
	if _, err := r.st.ConversationSummary(ctx(t), tn.ws.ID, private.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("contact with AI off summarized: %v", err)
	}
}
