package ai

import (
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Role says who wrote a Turn.
type Role string

// Turn roles. Notes are private to the team: they are never put in a prompt.
const (
	RoleCustomer Role = "customer"
	RoleAgent    Role = "agent"
	RoleNote     Role = "note"
)

// Turn is one message of the conversation.
type Turn struct {
	Role Role
	Text string
	At   time.Time
}

// PromptInput is the conversation and workspace context a draft is written
// from.
type PromptInput struct {
	// Instructions are the workspace's standing instructions to the model
	// ("we ship from Lisbon; never promise refunds over 100 EUR").
	Instructions string
	// BrandVoice describes the tone ("friendly, short, no emoji").
	BrandVoice string
	// Contact holds facts about the customer (name, plan, order count).
	Contact map[string]string
	// History is the conversation, oldest first.
	History []Turn
	// Knowledge are retrieved passages to ground the draft on, best first,
	// usually Index.Search(Query(History), 3).
	Knowledge []Hit
}

// PromptOptions bound what BuildMessages produces.
type PromptOptions struct {
	// MaxTurns is how many of the newest turns are kept (default 20).
	MaxTurns int
	// MaxHistoryBytes bounds the kept turns' text (default 8 KiB); the
	// newest turn is always kept, cut to this size if need be.
	MaxHistoryBytes int
	// MaxKnowledgeBytes bounds each knowledge passage (default 1200).
	MaxKnowledgeBytes int
	// Redact masks emails, phone and card numbers in the history, the
	// contact facts and past replies (see Redact). The workspace's own
	// instructions, brand voice and articles are sent as written.
	Redact bool
}

// Prompt defaults.
const (
	DefaultMaxTurns          = 20
	DefaultMaxHistoryBytes   = 8 << 10
	DefaultMaxKnowledgeBytes = 1200
)

func (o PromptOptions) withDefaults() PromptOptions {
	if o.MaxTurns <= 0 {
		o.MaxTurns = DefaultMaxTurns
	}
	if o.MaxHistoryBytes <= 0 {
		o.MaxHistoryBytes = DefaultMaxHistoryBytes
	}
	if o.MaxKnowledgeBytes <= 0 {
		o.MaxKnowledgeBytes = DefaultMaxKnowledgeBytes
	}
	return o
}

// Chat message roles, as chat-completions endpoints name them.
const (
	ChatSystem    = "system"
	ChatUser      = "user"
	ChatAssistant = "assistant"
)

// Message is one chat-completions message.
type Message struct {
	Role    string
	Content string
}

const basePrompt = `You are drafting the next reply of a customer support agent in a live chat.
The agent will review and edit your draft before sending it.
Write only the reply text, in the customer's language, without a signature.
Use only the facts given here and in the knowledge below; if they do not answer the question, say that you will check and get back, and do not invent policies, prices, dates or links.`

// BuildMessages assembles the chat messages for a draft: one system message
// (instructions, brand voice, contact facts, knowledge), then the bounded
// history as user (customer) and assistant (agent) messages, consecutive
// turns of one side merged. Notes and turns of unknown roles are left out.
func BuildMessages(in PromptInput, opt PromptOptions) []Message {
	opt = opt.withDefaults()
	clean := func(s string) string {
		if opt.Redact {
			return Redact(s)
		}
		return s
	}

	var sys strings.Builder
	sys.WriteString(basePrompt)
	if s := strings.TrimSpace(in.Instructions); s != "" {
		sys.WriteString("\n\n## Workspace instructions\n")
		sys.WriteString(s)
	}
	if s := strings.TrimSpace(in.BrandVoice); s != "" {
		sys.WriteString("\n\n## Brand voice\n")
		sys.WriteString(s)
	}
	if len(in.Contact) > 0 {
		sys.WriteString("\n\n## About the customer\n")
		for _, k := range slices.Sorted(maps.Keys(in.Contact)) {
			v := strings.TrimSpace(in.Contact[k])
			if v == "" {
				continue
			}
			sys.WriteString("- " + oneLine(k) + ": " + clean(oneLine(v)) + "\n")
		}
	}
	if len(in.Knowledge) > 0 {
		query := Query(in.History)
		sys.WriteString("\n\n## Knowledge\n")
		for _, h := range in.Knowledge {
			sys.WriteString("\n### " + oneLine(h.Doc.Title) + "\n")
			if h.Doc.Kind == KindReply {
				sys.WriteString("A past question: " + clean(truncate(h.Doc.Text, opt.MaxKnowledgeBytes/2)) + "\n")
				sys.WriteString("The agent answered: " + clean(truncate(h.Doc.Answer, opt.MaxKnowledgeBytes/2)) + "\n")
				continue
			}
			sys.WriteString(Passage(h.Doc.Text, query, opt.MaxKnowledgeBytes) + "\n")
		}
	}

	msgs := []Message{{Role: ChatSystem, Content: strings.TrimRight(sys.String(), "\n")}}
	for _, t := range boundHistory(in.History, opt) {
		role := ChatUser
		if t.Role == RoleAgent {
			role = ChatAssistant
		}
		text := clean(t.Text)
		if last := &msgs[len(msgs)-1]; last.Role == role {
			last.Content += "\n\n" + text
			continue
		}
		msgs = append(msgs, Message{Role: role, Content: text})
	}
	return msgs
}

// boundHistory keeps the newest customer and agent turns within MaxTurns
// and MaxHistoryBytes, oldest first, with empty turns and notes dropped.
func boundHistory(history []Turn, opt PromptOptions) []Turn {
	var kept []Turn
	budget := opt.MaxHistoryBytes
	for i := len(history) - 1; i >= 0 && len(kept) < opt.MaxTurns; i-- {
		t := history[i]
		t.Text = strings.TrimSpace(t.Text)
		if (t.Role != RoleCustomer && t.Role != RoleAgent) || t.Text == "" {
			continue
		}
		if len(t.Text) > budget {
			if len(kept) > 0 {
				break
			}
			t.Text = truncate(t.Text, budget)
		}
		budget -= len(t.Text)
		kept = append(kept, t)
	}
	slices.Reverse(kept)
	return kept
}

// Query returns the retrieval query for a conversation: the customer's
// newest run of turns (those after the last agent reply, or if the agent
// spoke last, those before it), bounded to 1 KiB.
func Query(history []Turn) string {
	var parts []string
	for i := len(history) - 1; i >= 0; i-- {
		t := history[i]
		if t.Role == RoleAgent && len(parts) > 0 {
			break
		}
		if t.Role == RoleCustomer && strings.TrimSpace(t.Text) != "" {
			parts = append(parts, strings.TrimSpace(t.Text))
		}
	}
	slices.Reverse(parts)
	return truncate(strings.Join(parts, "\n"), 1<<10)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut
// with an ellipsis.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	if n <= len(ell) {
		return ""
	}
	cut := n - len(ell)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
