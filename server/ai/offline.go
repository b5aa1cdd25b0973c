package ai

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// OfflineOptions tune the offline suggester. Zero values take the defaults.
type OfflineOptions struct {
	// MinCoverage is the least IDF-weighted share of the question's terms
	// the best document must contain (default 0.5). It is what keeps an
	// unrelated question from getting a draft.
	MinCoverage float64
	// MinScore is the least BM25 score of the best document (default 1.0).
	MinScore float64
	// MaxDraftBytes bounds an article passage (default 600).
	MaxDraftBytes int
	// ChunkBytes is about how much text each emit carries (default 24), so
	// the draft streams like a model's would.
	ChunkBytes int
}

// Offline defaults.
const (
	DefaultMinCoverage   = 0.5
	DefaultMinScore      = 1.0
	DefaultMaxDraftBytes = 600
	defaultChunkBytes    = 24
)

// OfflineModel is Draft.Model for offline drafts.
const OfflineModel = "offline"

// Offline is the Suggester that needs no network: it answers the customer's
// latest question from the best matching document in an Index. For an
// article it drafts the most relevant passage; for a past reply, the agent's
// answer (redacted, its greeting re-addressed to this customer). Either way
// the document is the draft's Source. When nothing matches well enough it
// fails with reason no_suggestion rather than guess.
type Offline struct {
	idx *Index
	opt OfflineOptions
}

// NewOffline returns an offline suggester over idx, which the caller keeps
// up to date (Add on article save and conversation resolve, Remove on
// delete).
func NewOffline(idx *Index, opt OfflineOptions) *Offline {
	if opt.MinCoverage <= 0 {
		opt.MinCoverage = DefaultMinCoverage
	}
	if opt.MinScore <= 0 {
		opt.MinScore = DefaultMinScore
	}
	if opt.MaxDraftBytes <= 0 {
		opt.MaxDraftBytes = DefaultMaxDraftBytes
	}
	if opt.ChunkBytes <= 0 {
		opt.ChunkBytes = defaultChunkBytes
	}
	return &Offline{idx: idx, opt: opt}
}

// Suggest implements Suggester.
func (o *Offline) Suggest(ctx context.Context, in Input, emit func(delta string)) (Draft, error) {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return Draft{}, fail(ReasonCanceled, "canceled", err)
	}
	q := Query(in.History)
	if strings.TrimSpace(q) == "" {
		return Draft{}, fail(ReasonNoSuggestion, "there is no customer question to answer", nil)
	}
	hits := o.idx.Search(q, 1)
	if len(hits) == 0 || hits[0].Coverage < o.opt.MinCoverage || hits[0].Score < o.opt.MinScore {
		return Draft{}, fail(ReasonNoSuggestion, ErrNoSuggestion.Message, nil)
	}
	best := hits[0]
	var text string
	if best.Doc.Kind == KindReply {
		text = readdress(Redact(strings.TrimSpace(best.Doc.Answer)), in.Contact)
	} else {
		text = Passage(best.Doc.Text, q, o.opt.MaxDraftBytes)
	}
	if text == "" {
		return Draft{}, fail(ReasonNoSuggestion, ErrNoSuggestion.Message, nil)
	}
	d := Draft{
		Text:       text,
		Sources:    []Source{{Kind: best.Doc.Kind, ID: best.Doc.ID, Title: best.Doc.Title}},
		Model:      OfflineModel,
		Confidence: best.Coverage,
	}
	for i, piece := range chunks(text, o.opt.ChunkBytes) {
		if err := ctx.Err(); err != nil {
			return Draft{}, fail(ReasonCanceled, "canceled", err)
		}
		if i == 0 {
			d.FirstDelta = time.Since(start)
		}
		emit(piece)
	}
	return d, nil
}

// chunks splits s into consecutive pieces of about n bytes, cut after a
// space so words stay whole; the pieces concatenated are s.
func chunks(s string, n int) []string {
	var out []string
	for len(s) > 0 {
		j := min(n, len(s))
		if k := strings.IndexByte(s[j:], ' '); k >= 0 {
			j += k + 1
		} else {
			j = len(s)
		}
		out = append(out, s[:j])
		s = s[j:]
	}
	return out
}

var greetingRE = regexp.MustCompile(`^(?i)(hi|hello|hey|dear|good (?:morning|afternoon|evening))[ \t]+[^,!\n]{1,40}?([,!])`)

// readdress replaces the name in a past reply's opening greeting ("Hi
// Maria,") with this customer's first name, or drops it, so one customer's
// name is never offered to another.
func readdress(reply string, contact map[string]string) string {
	name := ""
	for _, k := range []string{"first_name", "name"} {
		if v := strings.Fields(contact[k]); len(v) > 0 {
			name = " " + v[0]
			break
		}
	}
	return greetingRE.ReplaceAllStringFunc(reply, func(m string) string {
		sub := greetingRE.FindStringSubmatch(m)
		return sub[1] + name + sub[2]
	})
}

// Passage returns the part of text most relevant to query, at most max
// bytes: the sentence sharing most terms with the query, widened with its
// neighbours while it fits, in the original order and formatting. A text
// that fits whole is returned whole.
func Passage(text, query string, max int) string {
	text = strings.TrimSpace(text)
	if len(text) <= max {
		return text
	}
	spans := sentences(text)
	want := make(map[string]bool)
	for _, t := range Tokenize(query) {
		want[t] = true
	}
	best, bestScore := 0, 0
	for i, sp := range spans {
		seen := make(map[string]bool)
		score := 0
		for _, t := range Tokenize(text[sp[0]:sp[1]]) {
			if want[t] && !seen[t] {
				seen[t] = true
				score++
			}
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	lo, hi := best, best
	size := func(lo, hi int) int { return spans[hi][1] - spans[lo][0] }
	for {
		grown := false
		if hi+1 < len(spans) && size(lo, hi+1) <= max {
			hi++
			grown = true
		}
		if lo > 0 && size(lo-1, hi) <= max {
			lo--
			grown = true
		}
		if !grown {
			break
		}
	}
	return truncate(strings.TrimSpace(text[spans[lo][0]:spans[hi][1]]), max)
}

// sentences returns the [start, end) byte spans of the sentences of text,
// cut after '.', '!' or '?' followed by white space, and at line breaks.
func sentences(text string) [][2]int {
	var spans [][2]int
	start := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		end := -1
		switch {
		case c == '\n':
			end = i + 1
		case (c == '.' || c == '!' || c == '?') && i+1 < len(text) && (text[i+1] == ' ' || text[i+1] == '\n' || text[i+1] == '\t'):
			end = i + 1
		}
		if end > start {
			if strings.TrimSpace(text[start:end]) != "" {
				spans = append(spans, [2]int{start, end})
			}
			start = end
		}
	}
	if strings.TrimSpace(text[start:]) != "" {
		spans = append(spans, [2]int{start, len(text)})
	}
	if len(spans) == 0 {
		spans = append(spans, [2]int{0, len(text)})
	}
	return spans
}
