package ai

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SummaryModel names the offline summarizer in a stored summary.
const SummaryModel = "offline-summary-v1"

// MaxSummaryBytes bounds a summary's text.
const MaxSummaryBytes = 600

// maxSummarySentences is how many of the customer's sentences a summary
// keeps at most.
const maxSummarySentences = 3

// Sentiment is the customer's overall tone in a conversation.
type Sentiment string

// Sentiments.
const (
	SentimentPositive Sentiment = "positive"
	SentimentNeutral  Sentiment = "neutral"
	SentimentNegative Sentiment = "negative"
)

// Intent is what the customer came for.
type Intent string

// Intents.
const (
	IntentQuestion     Intent = "question"
	IntentComplaint    Intent = "complaint"
	IntentPurchase     Intent = "purchase"
	IntentCancellation Intent = "cancellation"
	IntentOther        Intent = "other"
)

// SummaryInput is what Summarize reads: a conversation's turns, oldest
// first, notes already left out. Only the customer's turns count.
type SummaryInput struct {
	History []Turn
}

// Summary is a conversation's summary and labels.
type Summary struct {
	// Text is the customer's most informative sentences (at most three,
	// in the order they were written, MaxSummaryBytes at most), with
	// emails, phone numbers and card numbers redacted.
	Text      string
	Sentiment Sentiment
	Intent    Intent
	// Lead: the customer wants to buy, or asked about prices, a quote or
	// a demo.
	Lead  bool
	Model string
}

// The lexicons, all lower case. A sentiment word counts +1 (positive) or
// -1 (negative); it counts the other way when one of the three words
// before it in the same sentence is a negator ("not good" is negative,
// "not bad" positive). The sum decides the sentiment: above zero
// positive, below negative, zero neutral.
var (
	positiveWords = wordSet("thanks thank thx great good love loved awesome perfect happy glad excellent helpful amazing appreciate appreciated wonderful nice fantastic pleased works worked fixed resolved satisfied")
	negativeWords = wordSet("bad terrible awful angry broken disappointed disappointing worst hate annoyed annoying frustrated frustrating useless poor horrible unacceptable wrong late damaged missing slow fail failed failing problem issue error ridiculous rude scam")
	negators      = wordSet("not no never don't doesn't didn't isn't wasn't aren't weren't can't cannot won't wouldn't hardly without")
	stopWords     = wordSet("the a an and or but if of to in on at for with from by is are was were be been am i you we my your our it its this that there here have has had do does did so as me us just can could would will")
)

// Intent rules, tried in this order; the first that matches wins. A
// phrase matches whole words, so "price" does not match "priceless".
var intentRules = []struct {
	intent  Intent
	phrases []string
}{
	{IntentCancellation, []string{"cancel", "cancellation", "cancelling", "canceling", "unsubscribe", "terminate", "close my account", "delete my account", "stop my subscription", "end my subscription"}},
	{IntentComplaint, []string{"complaint", "complain", "refund", "broken", "damaged", "not working", "doesn't work", "does not work", "didn't work", "never arrived", "still waiting", "unacceptable", "disappointed", "terrible", "worst", "wrong item", "charged twice"}},
	{IntentPurchase, []string{"buy", "buying", "purchase", "purchasing", "pricing", "price", "prices", "quote", "upgrade", "checkout", "order more", "place an order", "in stock", "how much", "discount", "subscribe"}},
}

// questionStarts begin a sentence that asks, with or without its "?".
var questionStarts = wordSet("how what when where why who which can could do does did is are will would should may")

// leadPhrases make a lead even without purchase intent.
var leadPhrases = []string{"price", "prices", "pricing", "quote", "demo", "trial", "how much", "enterprise", "licence", "license", "bulk order", "wholesale"}

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// Summarize summarizes a conversation offline: an extractive summary of
// what the customer wrote, its sentiment (lexicon with negation), intent
// (keyword rules) and whether it is a sales lead. It is deterministic and
// never fails; a conversation without customer text is neutral, other,
// not a lead, with an empty summary.
func Summarize(in SummaryInput) Summary {
	var sentences [][]string // each sentence's words, lower case
	var texts []string
	for _, t := range in.History {
		if t.Role != RoleCustomer {
			continue
		}
		for _, s := range splitSentences(t.Text) {
			texts = append(texts, s)
			sentences = append(sentences, words(s))
		}
	}
	out := Summary{Sentiment: SentimentNeutral, Intent: IntentOther, Model: SummaryModel}
	if len(texts) == 0 {
		return out
	}
	out.Sentiment = sentiment(sentences)
	joined := " " + strings.Join(slices.Concat(sentences...), " ") + " "
	out.Intent = intent(joined, texts, sentences, out.Sentiment)
	out.Lead = out.Intent == IntentPurchase || containsAny(joined, leadPhrases)
	out.Text = extract(texts, sentences)
	return out
}

func sentiment(sentences [][]string) Sentiment {
	score := 0
	for _, ws := range sentences {
		for i, w := range ws {
			v := 0
			switch {
			case positiveWords[w]:
				v = 1
			case negativeWords[w]:
				v = -1
			default:
				continue
			}
			for _, p := range ws[max(0, i-3):i] {
				if negators[p] {
					v = -v
					break
				}
			}
			score += v
		}
	}
	switch {
	case score > 0:
		return SentimentPositive
	case score < 0:
		return SentimentNegative
	}
	return SentimentNeutral
}

func intent(joined string, texts []string, sentences [][]string, s Sentiment) Intent {
	for _, r := range intentRules {
		if containsAny(joined, r.phrases) {
			return r.intent
		}
	}
	for i, t := range texts {
		if strings.HasSuffix(t, "?") || len(sentences[i]) > 0 && questionStarts[sentences[i][0]] {
			return IntentQuestion
		}
	}
	if s == SentimentNegative {
		return IntentComplaint
	}
	return IntentOther
}

// containsAny reports whether padded, words joined by single spaces with
// a space at each end, holds one of phrases as whole words.
func containsAny(padded string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(padded, " "+p+" ") {
			return true
		}
	}
	return false
}

// extract keeps the most informative sentences: those with the most
// distinct content words (a question or a number counts one more), in
// the order they were written, within MaxSummaryBytes.
func extract(texts []string, sentences [][]string) string {
	type scored struct{ i, score int }
	var all []scored
	for i, ws := range sentences {
		seen := map[string]bool{}
		for _, w := range ws {
			if len(w) > 2 && !stopWords[w] {
				seen[w] = true
			}
		}
		score := len(seen)
		if score == 0 {
			continue // "ok", "hi": nothing to keep
		}
		if strings.HasSuffix(texts[i], "?") {
			score++
		}
		if strings.ContainsFunc(texts[i], unicode.IsDigit) {
			score++
		}
		all = append(all, scored{i, score})
	}
	slices.SortStableFunc(all, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	all = all[:min(len(all), maxSummarySentences)]
	slices.SortFunc(all, func(a, b scored) int { return cmp.Compare(a.i, b.i) })
	var b strings.Builder
	for _, s := range all {
		t := Redact(texts[s.i])
		sep := 0
		if b.Len() > 0 {
			sep = 1
		}
		if b.Len()+sep+len(t) > MaxSummaryBytes {
			if b.Len() == 0 {
				b.WriteString(cutRunes(t, MaxSummaryBytes))
			}
			continue
		}
		if sep == 1 {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String()
}

// cutRunes cuts s to at most n bytes at a rune boundary.
func cutRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// splitSentences splits text at ., ! and ? followed by a space or the
// end, and at line breaks, trimming each sentence.
func splitSentences(text string) []string {
	var out []string
	add := func(s string) {
		if s = strings.Join(strings.Fields(s), " "); s != "" {
			out = append(out, s)
		}
	}
	start := 0
	for i, r := range text {
		end := -1
		switch r {
		case '\n', '\r':
			end = i
		case '.', '!', '?':
			next := i + 1
			if next == len(text) || text[next] == ' ' || text[next] == '\n' || text[next] == '\t' {
				end = next
			}
		}
		if end >= 0 {
			add(text[start:end])
			start = end
			if r == '\n' || r == '\r' {
				start = i + 1
			}
		}
	}
	add(text[start:])
	return out
}

// words are s's words, lower case, with apostrophes kept inside them
// (curly ones made straight) so "don't" is one word.
func words(s string) []string {
	s = strings.ToLower(strings.ReplaceAll(s, "\u2019", "'"))
	ws := strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
	out := ws[:0]
	for _, w := range ws {
		if w = strings.Trim(w, "'"); w != "" {
			out = append(out, w)
		}
	}
	return out
}
