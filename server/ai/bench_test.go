package ai

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// syntheticKnowledge builds a deterministic knowledge base of n articles of
// about 150 words each over a 20,000-word vocabulary with a Zipf-like
// spread, and one question per article made of some of its rarer words.
func syntheticKnowledge(n int) ([]Doc, []string) {
	rng := rand.New(rand.NewPCG(1, 2))
	syll := []string{"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qu", "dr", "fen", "gor", "hal", "jin"}
	vocab := make([]string, 20000)
	for i := range vocab {
		var b strings.Builder
		for j, k := 0, 2+i%3; j < k; j++ {
			b.WriteString(syll[rng.IntN(len(syll))])
		}
		fmt.Fprintf(&b, "%d", i) // unique
		vocab[i] = b.String()
	}
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(vocab)-1))
	docs := make([]Doc, n)
	questions := make([]string, n)
	for i := range docs {
		words := make([]string, 150)
		for j := range words {
			words[j] = vocab[zipf.Uint64()]
		}
		var body strings.Builder
		for j, w := range words {
			body.WriteString(w)
			if j%15 == 14 {
				body.WriteString(". ")
			} else {
				body.WriteByte(' ')
			}
		}
		docs[i] = Doc{Kind: KindArticle, ID: fmt.Sprint(i), Title: strings.Join(words[:4], " "), Text: body.String()}
		questions[i] = "Hello, " + strings.Join([]string{words[3], words[40], words[77], words[120], words[149]}, " ") + "?"
	}
	return docs, questions
}

// BenchmarkOffline10k is the offline suggester's latency for one question
// against a 10,000-article knowledge base, retrieval to last delta.
func BenchmarkOffline10k(b *testing.B) {
	docs, questions := syntheticKnowledge(10000)
	idx := NewIndex()
	for _, d := range docs {
		idx.Add(d)
	}
	o := NewOffline(idx, OfflineOptions{})
	found := 0
	i := 0
	for b.Loop() {
		if _, err := o.Suggest(b.Context(), ask(questions[i%len(questions)]), func(string) {}); err == nil {
			found++
		}
		i++
	}
	b.ReportMetric(float64(found)/float64(i), "drafts/op")
}

// BenchmarkIndexAdd10k is the cost of indexing 10,000 articles.
func BenchmarkIndexAdd10k(b *testing.B) {
	docs, _ := syntheticKnowledge(10000)
	for b.Loop() {
		idx := NewIndex()
		for _, d := range docs {
			idx.Add(d)
		}
	}
}

// BenchmarkOpenAIFirstDelta is the time to the first delta through the real
// client against a local endpoint that answers at once: the overhead this
// package and the client add before an agent sees text.
func BenchmarkOpenAIFirstDelta(b *testing.B) {
	f := newFakeOpenAI(b)
	o, err := NewOpenAI(OpenAIConfig{BaseURL: f.URL(), APIKey: "sk-test", Model: "gpt-4o-mini"})
	if err != nil {
		b.Fatal(err)
	}
	in := testInput()
	var first time.Duration
	n := 0
	for b.Loop() {
		d, err := o.Suggest(b.Context(), in, func(string) {})
		if err != nil {
			b.Fatal(err)
		}
		first += d.FirstDelta
		n++
	}
	b.ReportMetric(float64(first.Microseconds())/float64(n), "µs-first-delta/op")
}
