package ai

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"unicode/utf8"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Hello, where is my REFUND?", []string{"refund"}},
		{"refunds refunded refunding", []string{"refund", "refund", "refund"}},
		{"arrive arrives arrived arriving", []string{"arriv", "arriv", "arriv", "arriv"}},
		{"shipping shipped ships", []string{"ship", "ship", "ship"}},
		{"deliveries delivery", []string{"delivery", "delivery"}},
		{"boxes glasses status", []string{"box", "glass", "status"}},
		{"Größe bestellen — ação 42 a", []string{"größ", "bestellen", "ação", "42"}},
		{"order#48213/2026-11-23", []string{"order", "48213", "2026", "11", "23"}},
		{"", nil},
		{"the and of to", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Tokenize(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("Tokenize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzTokenize(f *testing.F) {
	f.Add("Hello, where is my REFUND?")
	f.Add("Größe ação 日本語 ✓ \xff")
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range Tokenize(s) {
			if tok == "" || len(tok) > maxTokenBytes {
				t.Fatalf("Tokenize(%q) gave token %q", s, tok)
			}
			if utf8.ValidString(s) && !utf8.ValidString(tok) {
				t.Fatalf("Tokenize(%q) gave invalid UTF-8 %q", s, tok)
			}
		}
	})
}

func TestIndexAddReplaceRemove(t *testing.T) {
	idx := NewIndex()
	idx.Add(Doc{Kind: KindArticle, ID: "1", Title: "Gift cards", Text: "Gift cards never expire."})
	idx.Add(Doc{Kind: KindArticle, ID: "2", Title: "Returns", Text: "Return within 30 days."})
	idx.Add(Doc{Kind: KindReply, ID: "1", Title: "Gift", Text: "Can I buy a gift card?", Answer: "Yes, at checkout."})
	if idx.Len() != 3 {
		t.Fatalf("Len = %d, want 3 (kind and id together identify a doc)", idx.Len())
	}
	if hits := idx.Search("gift card", 10); len(hits) != 2 {
		t.Errorf("hits = %+v, want the article and the reply", hits)
	}

	// Replacing moves the document to its new terms.
	idx.Add(Doc{Kind: KindArticle, ID: "1", Title: "Vouchers", Text: "Vouchers are valid for a year."})
	if idx.Len() != 3 {
		t.Errorf("Len = %d after replace", idx.Len())
	}
	hits := idx.Search("voucher", 10)
	if len(hits) != 1 || hits[0].Doc.ID != "1" || hits[0].Doc.Title != "Vouchers" {
		t.Errorf("voucher hits = %+v", hits)
	}
	for _, h := range idx.Search("gift expire", 10) {
		if h.Doc.Kind == KindArticle {
			t.Errorf("replaced article still found by its old text: %+v", h)
		}
	}

	idx.Remove(KindArticle, "1")
	idx.Remove(KindArticle, "nope")
	if idx.Len() != 2 || len(idx.Search("voucher", 10)) != 0 {
		t.Errorf("after Remove: Len = %d, hits = %v", idx.Len(), idx.Search("voucher", 10))
	}
	idx.Remove(KindArticle, "2")
	idx.Remove(KindReply, "1")
	if idx.Len() != 0 || len(idx.postings) != 0 || idx.totalLen != 0 {
		t.Errorf("empty index keeps state: %d postings, totalLen %d", len(idx.postings), idx.totalLen)
	}
	if hits := idx.Search("gift", 10); hits != nil {
		t.Errorf("search of empty index = %v", hits)
	}
}

func TestIndexSearchRanksAndBounds(t *testing.T) {
	idx := testIndex(t)
	hits := idx.Search("refund return", 3)
	if len(hits) == 0 || hits[0].Doc.ID != "a2" {
		t.Fatalf("hits = %+v, want a2 first", hits)
	}
	if len(hits) > 3 {
		t.Errorf("%d hits for k=3", len(hits))
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Score > hits[i-1].Score {
			t.Errorf("hits out of order: %+v", hits)
		}
	}
	for _, h := range hits {
		if h.Coverage <= 0 || h.Coverage > 1 {
			t.Errorf("coverage %v out of (0, 1]", h.Coverage)
		}
	}
	if got := idx.Search("refund", 0); got != nil {
		t.Errorf("k=0 gave %v", got)
	}
	if got := idx.Search("the of and", 3); got != nil {
		t.Errorf("stopword query gave %v", got)
	}
	// Ties are broken by kind and id, so results do not depend on map order.
	tie := NewIndex()
	for _, id := range []string{"c", "a", "b"} {
		tie.Add(Doc{Kind: KindArticle, ID: id, Text: "identical text"})
	}
	for range 5 {
		got := tie.Search("identical", 3)
		if len(got) != 3 || got[0].Doc.ID != "a" || got[1].Doc.ID != "b" || got[2].Doc.ID != "c" {
			t.Fatalf("tie order = %+v", got)
		}
	}
}

func TestIndexConcurrentUse(t *testing.T) {
	idx := testIndex(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				id := fmt.Sprintf("w%d-%d", w, i%10)
				idx.Add(Doc{Kind: KindArticle, ID: id, Title: "Shipping note", Text: "ship parcel " + id})
				if i%3 == 0 {
					idx.Remove(KindArticle, id)
				}
			}
		})
		wg.Go(func() {
			for range 200 {
				if hits := idx.Search("shipping parcel", 5); len(hits) == 0 {
					t.Error("search found nothing while the index holds shipping articles")
					return
				}
			}
		})
	}
	wg.Wait()
}
