package ai

import (
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Doc is a document the offline suggester can ground a draft on.
type Doc struct {
	Kind SourceKind
	ID   string
	// Title is the article title, or for a reply a short label (the
	// conversation subject); it is indexed and shown as the citation.
	Title string
	// Text is the article body, or for a reply the customer's question.
	Text string
	// Answer is, for a reply, the agent's answer that resolved Text; it is
	// indexed too and is the draft when this document is the best hit.
	Answer string
}

// Hit is one search result.
type Hit struct {
	Doc Doc
	// Score is the BM25 score; it grows with the query and the corpus, so
	// compare it only within one search.
	Score float64
	// Coverage is the IDF-weighted share of the query's terms that occur in
	// the document, in [0, 1]; it is comparable across searches.
	Coverage float64
}

// BM25 parameters, the customary values.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// Index limits: a longer token is dropped, a longer query is cut.
const (
	maxTokenBytes = 40
	maxQueryTerms = 64
)

type docKey struct {
	kind SourceKind
	id   string
}

type indexed struct {
	doc    Doc
	key    docKey
	length int            // tokens
	tf     map[string]int // term frequencies
}

// posting says a term occurs tf times in the document in slot doc.
type posting struct {
	doc int32
	tf  int32
}

// Index is an in-memory BM25 index over articles and past replies. It is
// safe for concurrent use; searches run in parallel, Add and Remove are
// exclusive.
//
// Documents live in slots (reused after Remove) so postings are small
// fixed-size records and a search scores into flat arrays.
type Index struct {
	mu       sync.RWMutex
	slot     map[docKey]int32
	docs     []*indexed // by slot; nil when free
	free     []int32
	postings map[string][]posting // term → documents containing it, unordered
	totalLen int
}

// NewIndex returns an empty Index.
func NewIndex() *Index {
	return &Index{slot: make(map[docKey]int32), postings: make(map[string][]posting)}
}

// Add indexes d, replacing any document of the same Kind and ID.
func (x *Index) Add(d Doc) {
	tf := make(map[string]int)
	n := 0
	for _, field := range []string{d.Title, d.Title, d.Text, d.Answer} { // the title counts twice
		for _, t := range Tokenize(field) {
			tf[t]++
			n++
		}
	}
	key := docKey{d.Kind, d.ID}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(key)
	var s int32
	if k := len(x.free); k > 0 {
		s = x.free[k-1]
		x.free = x.free[:k-1]
	} else {
		s = int32(len(x.docs))
		x.docs = append(x.docs, nil)
	}
	x.docs[s] = &indexed{doc: d, key: key, length: n, tf: tf}
	x.slot[key] = s
	x.totalLen += n
	for t, f := range tf {
		x.postings[t] = append(x.postings[t], posting{doc: s, tf: int32(f)})
	}
}

// Remove drops the document of that kind and id; it is a no-op if absent.
func (x *Index) Remove(kind SourceKind, id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(docKey{kind, id})
}

func (x *Index) removeLocked(key docKey) {
	s, ok := x.slot[key]
	if !ok {
		return
	}
	old := x.docs[s]
	for t := range old.tf {
		p := x.postings[t]
		for i := range p {
			if p[i].doc == s {
				p[i] = p[len(p)-1]
				p = p[:len(p)-1]
				break
			}
		}
		if len(p) == 0 {
			delete(x.postings, t)
		} else {
			x.postings[t] = p
		}
	}
	x.totalLen -= old.length
	x.docs[s] = nil
	x.free = append(x.free, s)
	delete(x.slot, key)
}

// Len returns the number of documents.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.slot)
}

// idf is the BM25 inverse document frequency of a term found in df of n
// documents.
func idf(n, df int) float64 {
	return math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
}

// unknownWeight is how much a query term found in no document counts
// against coverage, as a share of the weight of a term found once. Such a
// term cannot point to a document, but many of them mean the question is
// about something the knowledge base does not cover ("the weather in
// Lisbon tomorrow" must not draw the Lisbon store's opening hours).
const unknownWeight = 0.5

// Search returns up to k documents best matching query, best first, ties
// broken by kind and id so results are deterministic.
func (x *Index) Search(query string, k int) []Hit {
	terms := uniqueTerms(query)
	if len(terms) == 0 || k <= 0 {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := len(x.slot)
	if n == 0 {
		return nil
	}
	avg := float64(x.totalLen) / float64(n)
	scores := make([]float64, len(x.docs))
	matched := make([]float64, len(x.docs)) // summed idf of the terms present
	var touched []int32
	var weight float64 // summed idf of all query terms
	for _, t := range terms {
		p := x.postings[t]
		if len(p) == 0 {
			weight += unknownWeight * idf(n, 1)
			continue
		}
		w := idf(n, len(p))
		weight += w
		for _, e := range p {
			if matched[e.doc] == 0 {
				touched = append(touched, e.doc)
			}
			l := float64(x.docs[e.doc].length)
			tf := float64(e.tf)
			scores[e.doc] += w * tf * (bm25K1 + 1) / (tf + bm25K1*(1-bm25B+bm25B*l/avg))
			matched[e.doc] += w
		}
	}
	// Keep the best k in order with an insertion pass: k is small.
	better := func(a, b int32) bool {
		if scores[a] != scores[b] {
			return scores[a] > scores[b]
		}
		ka, kb := x.docs[a].key, x.docs[b].key
		if ka.kind != kb.kind {
			return ka.kind < kb.kind
		}
		return ka.id < kb.id
	}
	top := make([]int32, 0, min(k, len(touched)))
	for _, d := range touched {
		if len(top) == k && !better(d, top[k-1]) {
			continue
		}
		if len(top) < k {
			top = append(top, d)
		} else {
			top[k-1] = d
		}
		for i := len(top) - 1; i > 0 && better(top[i], top[i-1]); i-- {
			top[i], top[i-1] = top[i-1], top[i]
		}
	}
	hits := make([]Hit, len(top))
	for i, d := range top {
		hits[i] = Hit{Doc: x.docs[d].doc, Score: scores[d], Coverage: matched[d] / weight}
	}
	return hits
}

func uniqueTerms(s string) []string {
	terms := Tokenize(s)
	slices.Sort(terms)
	terms = slices.Compact(terms)
	if len(terms) > maxQueryTerms {
		terms = terms[:maxQueryTerms]
	}
	return terms
}

// Tokenize splits s into index terms: lower-cased runs of Unicode letters
// and digits, without English stopwords and one-letter words, lightly
// stemmed ("refunds", "refunded" and "refunding" are all "refund").
func Tokenize(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(w) > maxTokenBytes {
			continue
		}
		w = strings.ToLower(w)
		if utf8.RuneCountInString(w) < 2 || stopwords[w] {
			continue
		}
		out = append(out, stem(w))
	}
	return out
}

// stem strips a few English suffixes. It is deliberately light: it only has
// to make the same word in different forms meet ("arrive", "arrives",
// "arrived", "arriving" are all "arriv"), not produce real roots.
func stem(w string) string {
	w = stemSuffix(w)
	if n := len(w); n > 3 && w[n-1] == 'e' && w[n-2] != 'e' {
		return w[:n-1]
	}
	return w
}

func stemSuffix(w string) string {
	n := len(w)
	switch {
	case n > 4 && strings.HasSuffix(w, "ies"):
		return w[:n-3] + "y"
	case n > 5 && strings.HasSuffix(w, "ing"):
		return undouble(w[:n-3])
	case n > 4 && strings.HasSuffix(w, "ed") && !strings.HasSuffix(w, "eed"):
		return undouble(w[:n-2])
	case n > 4 && (strings.HasSuffix(w, "sses") || strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes")):
		return w[:n-2]
	case n > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:n-1]
	}
	return w
}

// undouble turns "shipp" (from shipping) into "ship".
func undouble(w string) string {
	n := len(w)
	if n >= 3 && w[n-1] == w[n-2] && strings.IndexByte("bdgmnprt", w[n-1]) >= 0 {
		return w[:n-1]
	}
	return w
}

// stopwords are common English function words and chat pleasantries, which
// say nothing about what a question is about.
var stopwords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`
a about above after again against all am an and any are as at be because been
before being below between both but by can could did do does doing down during
each few for from further had has have having he her here hers herself him
himself his how i if in into is it its itself just me more most my myself no
nor not now of off on once only or other our ours ourselves out over own same
she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when
where which while who whom why will with would you your yours yourself
yourselves im ive id dont cant wont didnt doesnt isnt its also get got would
hi hello hey thanks thank please pls regards dear ok okay yes yeah sir madam
team good morning afternoon evening help need want like know let us one still
great cheers much many long really something anything anyone someone
`) {
		m[w] = true
	}
	return m
}()
