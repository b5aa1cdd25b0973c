package ai

import (
	"strings"
	"unicode"
)

// AsksForHuman reports whether a customer's message asks to be put through
// to a person rather than the AI: "can I talk to a human?", "agent
// please", "I'd like to speak with a representative", "is there a real
// person?". It is a small phrase classifier, deliberately conservative
// about mentions that are not requests:
//
//   - a person word (human, agent, person, representative, rep, operator,
//     staff, employee, someone/somebody real) counts when the words before
//     it, skipping fillers ("to", "a", "with", "me", ...), reach a request
//     verb (talk, speak, chat, connect, transfer, want, need, get, ...);
//   - "real", "live" or "actual" before a person word ("a real person",
//     "live agent") always counts;
//   - a message of at most three words with a person word ("Human!",
//     "agent please") counts;
//   - a negation in the request ("I don't need an agent") does not count,
//     nor does a mere mention ("the agent said my order shipped") or a
//     question about the AI itself ("are you a human?").
func AsksForHuman(text string) bool {
	words := handoffWords(text)
	for i := range words {
		if !isPersonWord(words, i) {
			continue
		}
		if len(words) <= 3 {
			return true
		}
		if i > 0 && (words[i-1] == "real" || words[i-1] == "live" || words[i-1] == "actual") && !negated(words, i) {
			return true
		}
		if requested(words, i) {
			return true
		}
	}
	return false
}

var (
	personWords = map[string]bool{
		"human": true, "humans": true, "agent": true, "agents": true, "person": true, "people": true,
		"representative": true, "rep": true, "operator": true, "staff": true, "employee": true,
	}
	requestWords = map[string]bool{
		"talk": true, "speak": true, "chat": true, "connect": true, "transfer": true, "reach": true,
		"want": true, "need": true, "get": true, "give": true, "escalate": true, "contact": true,
		"call": true, "there": true, "have": true, "put": true, "prefer": true,
	}
	fillerWords = map[string]bool{
		"to": true, "a": true, "an": true, "the": true, "with": true, "me": true, "some": true,
		"your": true, "one": true, "of": true, "please": true, "i": true, "i'd": true, "can": true,
		"could": true, "would": true, "like": true, "through": true, "is": true, "just": true,
		"real": true, "live": true, "actual": true, "us": true, "we": true, "you": true, "let": true,
		"now": true, "pls": true, "plz": true, "possible": true, "maybe": true, "directly": true,
	}
	negationWords = map[string]bool{
		"don't": true, "dont": true, "not": true, "never": true, "doesn't": true,
		"didn't": true, "won't": true, "without": true,
	}
)

// isPersonWord reports whether words[i] names a person: a person word, or
// someone/somebody next to real or human.
func isPersonWord(words []string, i int) bool {
	if personWords[words[i]] {
		return true
	}
	if words[i] == "someone" || words[i] == "somebody" {
		return i+1 < len(words) && (words[i+1] == "real" || words[i+1] == "human")
	}
	return false
}

// requested reports whether the chain of filler and request words before
// words[i] holds a request verb and no negation. "you" ends the chain when
// it directly follows "are" ("are you a human?").
func requested(words []string, i int) bool {
	found := false
	for j := i - 1; j >= 0; j-- {
		w := words[j]
		switch {
		case w == "no": // "no need ...", but not "no, I want ..."
			return found && !(j+1 < i && requestWords[words[j+1]])
		case negationWords[w]:
			return false
		case w == "you" && j > 0 && words[j-1] == "are":
			return false
		case requestWords[w]:
			found = true
		case fillerWords[w]:
		default:
			return found
		}
	}
	return found
}

// negated reports whether a negation precedes words[i] in its chain of
// filler and request words.
func negated(words []string, i int) bool {
	for j := i - 1; j >= 0; j-- {
		w := words[j]
		switch {
		case negationWords[w]:
			return true
		case requestWords[w], fillerWords[w]:
		default:
			return false
		}
	}
	return false
}

// handoffWords lowercases text and splits it into words of letters and
// apostrophes (typographic ones made plain), a possessive 's cut off.
func handoffWords(text string) []string {
	text = strings.ToLower(strings.ReplaceAll(text, "’", "'"))
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
	for i, w := range words {
		words[i] = strings.TrimSuffix(w, "'s")
	}
	return words
}
