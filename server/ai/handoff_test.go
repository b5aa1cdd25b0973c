package ai

import "testing"

func TestAsksForHuman(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"can I talk to a human?", true},
		{"Can I speak with an agent please", true},
		{"I'd like to speak to a representative.", true},
		{"connect me with a person", true},
		{"Transfer me to an operator now", true},
		{"HUMAN!", true},
		{"agent please", true},
		{"is there a real person I can talk to?", true},
		{"I want to talk to someone real", true},
		{"I need a live agent, this bot is useless", true},
		{"no, I want a human", true},
		{"Let me speak to your staff", true},
		{"can I talk to a human’s manager", true},

		{"the agent said my order shipped", false},
		{"I want to know whether the agent said my order shipped", false},
		{"are you a human?", false},
		{"I don't need a human, just the tracking number", false},
		{"I do not want to talk to an agent", false},
		{"no need for an agent, thanks", false},
		{"no need to get a person involved", false},
		{"Where is my order?", false},
		{"My package arrived damaged and the delivery person was rude to me", false},
		{"I need someone to fix my invoice", false},
		{"", false},
		{"real", false},
	} {
		if got := AsksForHuman(tc.text); got != tc.want {
			t.Errorf("AsksForHuman(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func FuzzAsksForHuman(f *testing.F) {
	for _, s := range []string{"can I talk to a human?", "the agent said", "don't need a person", "\xff agent", "’"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		AsksForHuman(s) // must not panic
	})
}
