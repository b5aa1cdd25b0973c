package ai

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBuildMessagesShape(t *testing.T) {
	in := PromptInput{
		Instructions: "Never promise refunds over 100 EUR. Support line: +351 210 000 000.",
		BrandVoice:   "Warm, short, no emoji.",
		Contact:      map[string]string{"plan": "Pro", "name": "Ana", "email": "ana@example.com", "empty": " "},
		History: []Turn{
			{Role: RoleCustomer, Text: "Hi"},
			{Role: RoleCustomer, Text: "My card 4111 1111 1111 1111 was charged twice"},
			{Role: RoleNote, Text: "refund approved by Rui"},
			{Role: RoleAgent, Text: "Sorry! Checking now."},
			{Role: "bot", Text: "unknown role"},
			{Role: RoleCustomer, Text: "  "},
			{Role: RoleCustomer, Text: "Any news?"},
		},
		Knowledge: []Hit{
			{Doc: Doc{Kind: KindArticle, ID: "a2", Title: "Returns and refunds", Text: "We refund within 5 days."}},
			{Doc: Doc{Kind: KindReply, ID: "r9", Title: "Double charge", Text: "I was charged twice, mail bob@x.io", Answer: "We refunded the second charge."}},
		},
	}
	msgs := BuildMessages(in, PromptOptions{Redact: true})

	roles := []string{}
	for _, m := range msgs {
		roles = append(roles, m.Role)
	}
	if got := strings.Join(roles, ","); got != "system,user,assistant,user" {
		t.Fatalf("roles = %s", got)
	}
	sys := msgs[0].Content
	for _, want := range []string{
		"Never promise refunds over 100 EUR. Support line: +351 210 000 000.", // the workspace's own text, unredacted
		"Warm, short, no emoji.",
		"- email: [email]\n- name: Ana\n- plan: Pro", // sorted, redacted, empty dropped
		"### Returns and refunds\nWe refund within 5 days.",
		"A past question: I was charged twice, mail [email]",
		"The agent answered: We refunded the second charge.",
	} {
		if !strings.Contains(sys, want) {
			t.Errorf("system message lacks %q:\n%s", want, sys)
		}
	}
	if msgs[1].Content != "Hi\n\nMy card [card] was charged twice" {
		t.Errorf("merged customer turns = %q", msgs[1].Content)
	}
	all := fmt.Sprint(msgs)
	for _, leak := range []string{"refund approved by Rui", "unknown role", "4111", "ana@example.com", "bob@x.io"} {
		if strings.Contains(all, leak) {
			t.Errorf("prompt leaks %q", leak)
		}
	}
}

func TestBuildMessagesWithoutRedaction(t *testing.T) {
	in := PromptInput{History: []Turn{{Role: RoleCustomer, Text: "mail ana@example.com"}, {Role: RoleNote, Text: "secret"}}}
	msgs := BuildMessages(in, PromptOptions{})
	if len(msgs) != 2 || msgs[1].Content != "mail ana@example.com" {
		t.Errorf("msgs = %+v", msgs)
	}
	if strings.Contains(fmt.Sprint(msgs), "secret") {
		t.Error("notes must be left out even without redaction")
	}
}

func TestBuildMessagesBounds(t *testing.T) {
	var history []Turn
	for i := range 50 {
		role := RoleCustomer
		if i%2 == 1 {
			role = RoleAgent
		}
		history = append(history, Turn{Role: role, Text: fmt.Sprintf("turn %02d %s", i, strings.Repeat("x", 90))})
	}

	t.Run("max turns keeps the newest", func(t *testing.T) {
		msgs := BuildMessages(PromptInput{History: history}, PromptOptions{MaxTurns: 4})
		if len(msgs) != 5 {
			t.Fatalf("%d messages, want system + 4", len(msgs))
		}
		if !strings.HasPrefix(msgs[1].Content, "turn 46") || !strings.HasPrefix(msgs[4].Content, "turn 49") {
			t.Errorf("kept %q … %q", msgs[1].Content[:7], msgs[4].Content[:7])
		}
	})
	t.Run("default max turns", func(t *testing.T) {
		msgs := BuildMessages(PromptInput{History: history}, PromptOptions{})
		if len(msgs) != 1+DefaultMaxTurns {
			t.Errorf("%d messages, want %d", len(msgs), 1+DefaultMaxTurns)
		}
	})
	t.Run("max bytes keeps the newest", func(t *testing.T) {
		msgs := BuildMessages(PromptInput{History: history}, PromptOptions{MaxHistoryBytes: 350})
		total := 0
		for _, m := range msgs[1:] {
			total += len(m.Content)
		}
		if len(msgs) != 4 || total > 350 || !strings.HasPrefix(msgs[3].Content, "turn 49") {
			t.Errorf("%d messages of %d bytes, last %q", len(msgs), total, msgs[len(msgs)-1].Content[:7])
		}
	})
	t.Run("an oversized newest turn is cut, not dropped", func(t *testing.T) {
		long := strings.Repeat("é", 5000)
		msgs := BuildMessages(PromptInput{History: append(history, Turn{Role: RoleCustomer, Text: long})}, PromptOptions{MaxHistoryBytes: 1001})
		if len(msgs) != 2 {
			t.Fatalf("%d messages, want system + the cut newest turn", len(msgs))
		}
		c := msgs[1].Content
		if len(c) > 1001 || !utf8.ValidString(c) || !strings.HasSuffix(c, "…") {
			t.Errorf("cut turn: %d bytes, valid %v", len(c), utf8.ValidString(c))
		}
	})
	t.Run("knowledge passages are bounded", func(t *testing.T) {
		in := PromptInput{
			History:   []Turn{{Role: RoleCustomer, Text: "refund"}},
			Knowledge: []Hit{{Doc: Doc{Kind: KindArticle, Title: "Big", Text: strings.Repeat("Refund policy sentence. ", 500)}}},
		}
		msgs := BuildMessages(in, PromptOptions{MaxKnowledgeBytes: 300})
		if len(msgs[0].Content) > len(basePrompt)+400 {
			t.Errorf("system message is %d bytes", len(msgs[0].Content))
		}
	})
}

func TestQuery(t *testing.T) {
	tests := []struct {
		name    string
		history []Turn
		want    string
	}{
		{"empty", nil, ""},
		{"customer turns since the last reply", []Turn{
			{Role: RoleCustomer, Text: "old question"},
			{Role: RoleAgent, Text: "answer"},
			{Role: RoleCustomer, Text: "new question"},
			{Role: RoleNote, Text: "note"},
			{Role: RoleCustomer, Text: "more detail"},
		}, "new question\nmore detail"},
		{"agent spoke last", []Turn{
			{Role: RoleCustomer, Text: "first"},
			{Role: RoleCustomer, Text: "second"},
			{Role: RoleAgent, Text: "answer"},
		}, "first\nsecond"},
		{"only notes", []Turn{{Role: RoleNote, Text: "note"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Query(tt.history); got != tt.want {
				t.Errorf("Query = %q, want %q", got, tt.want)
			}
		})
	}
	long := Query([]Turn{{Role: RoleCustomer, Text: strings.Repeat("a", 5000)}})
	if len(long) > 1<<10 {
		t.Errorf("query is %d bytes", len(long))
	}
}
