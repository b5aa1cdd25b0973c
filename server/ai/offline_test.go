package ai

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// testKnowledge is a small shop's help centre and a few resolved
// conversations.
var testKnowledge = []Doc{
	{Kind: KindArticle, ID: "a1", Title: "Shipping times and costs", Text: "We ship every order from our Lisbon warehouse within one business day. Standard shipping to Europe takes 3 to 5 business days and costs 4.90 EUR. Orders over 50 EUR ship free. Express shipping arrives in 1 to 2 business days for 12 EUR."},
	{Kind: KindArticle, ID: "a2", Title: "Returns and refunds", Text: "You can return any unworn item within 30 days of delivery. Start a return from your account page and print the prepaid label. Once the parcel reaches our warehouse, we refund the original payment method within 5 business days. Sale items are final and cannot be returned."},
	{Kind: KindArticle, ID: "a3", Title: "Resetting your password", Text: "Forgot your password? On the sign-in page choose \"Forgot password\" and enter your email address. We send a reset link that is valid for 1 hour. If the email does not arrive, check your spam folder."},
	{Kind: KindArticle, ID: "a4", Title: "Tracking your parcel", Text: "When your order ships you get an email with a tracking number. Open the tracking link to see where the parcel is. Tracking can take 24 hours to show the first scan."},
	{Kind: KindArticle, ID: "a5", Title: "Payment methods", Text: "We accept Visa, Mastercard, American Express, PayPal, Apple Pay and MB Way. Cards are charged when the order ships. We never store full card numbers."},
	{Kind: KindArticle, ID: "a6", Title: "Size guide", Text: "Our shirts run small: if you are between two sizes, pick the larger one. Measure your chest under the arms and compare with the size chart on each product page. Trousers follow standard EU sizes."},
	{Kind: KindArticle, ID: "a7", Title: "Changing or cancelling an order", Text: "You can change the address or cancel an order until it ships, usually within a few hours. Open the order in your account and choose Cancel order. Once shipped, an order cannot be cancelled, but you can return it."},
	{Kind: KindArticle, ID: "a8", Title: "Gift cards", Text: "Gift cards are sent by email and never expire. Redeem a gift card code at checkout. Gift cards cannot be exchanged for cash."},
	{Kind: KindArticle, ID: "a9", Title: "Damaged or wrong item", Text: "Sorry if your item arrived damaged or is not what you ordered. Send us a photo of the item and the packaging within 14 days and we will send a replacement at no cost, or refund you if you prefer."},
	{Kind: KindArticle, ID: "a10", Title: "Store locations and opening hours", Text: "Our flagship store is on Rua Augusta 120 in Lisbon, open Monday to Saturday from 10:00 to 20:00. Our Porto store on Rua de Santa Catarina is open every day from 10:00 to 19:00."},
	{Kind: KindReply, ID: "r1", Title: "Invoice with VAT number", Text: "Can I get an invoice with my company VAT number on it?", Answer: "Hi Maria, sure! Reply with your company name and VAT number and we will email you the invoice within a day. Questions? Write to maria.costa@example.com or call +351 912 345 678."},
	{Kind: KindReply, ID: "r2", Title: "Wholesale enquiry", Text: "Do you sell wholesale to shops? We'd like to stock your shirts in our boutique.", Answer: "Hello Tom, thanks for your interest! Wholesale orders start at 30 pieces with a 40% discount. I have passed your details to our wholesale team, who will be in touch this week."},
	{Kind: KindReply, ID: "r3", Title: "Package stuck in customs", Text: "My package has been stuck in customs in Switzerland for a week.", Answer: "Sorry about the wait! Swiss customs sometimes hold parcels for import VAT. Please pay the fee on the Swiss Post link you received by SMS and the parcel will be released within two days."},
}

func testIndex(t testing.TB) *Index {
	t.Helper()
	idx := NewIndex()
	for _, d := range testKnowledge {
		idx.Add(d)
	}
	return idx
}

func ask(q string) Input {
	return Input{Workspace: "ws1", PromptInput: PromptInput{History: []Turn{{Role: RoleCustomer, Text: q}}}}
}

func TestOfflineFindsTheRightSource(t *testing.T) {
	o := NewOffline(testIndex(t), OfflineOptions{})
	tests := []struct {
		question string
		source   string
		contains string
	}{
		{"How long does shipping to Germany take?", "a1", "3 to 5 business days"},
		{"I want to return my jacket and get a refund", "a2", "refund"},
		{"I forgot my password and can't sign in", "a3", "Forgot password"},
		{"Where is my parcel? I have no tracking number", "a4", "tracking number"},
		{"Can I pay with PayPal?", "a5", "PayPal"},
		{"Which size should I order, I'm between sizes", "a6", "larger one"},
		{"Please cancel my order, I ordered by mistake", "a7", "Cancel order"},
		{"Do gift cards expire?", "a8", "never expire"},
		{"The mug arrived broken and damaged", "a9", "replacement"},
		{"What are the opening hours of the Porto store?", "a10", "Porto"},
		{"I need an invoice with our VAT number for the company", "r1", "VAT number"},
		{"My parcel is stuck at customs in Switzerland", "r3", "Swiss customs"},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			var deltas []string
			d, err := o.Suggest(t.Context(), ask(tt.question), func(s string) { deltas = append(deltas, s) })
			if err != nil {
				t.Fatalf("Suggest(%q): %v", tt.question, err)
			}
			if len(d.Sources) != 1 || d.Sources[0].ID != tt.source {
				t.Fatalf("sources = %+v, want %s", d.Sources, tt.source)
			}
			if !strings.Contains(d.Text, tt.contains) {
				t.Errorf("draft %q lacks %q", d.Text, tt.contains)
			}
			if strings.Join(deltas, "") != d.Text || len(deltas) < 2 {
				t.Errorf("deltas %q do not stream the draft %q", deltas, d.Text)
			}
			if d.Model != OfflineModel || d.Confidence < DefaultMinCoverage || d.Confidence > 1 {
				t.Errorf("model = %q, confidence = %v", d.Model, d.Confidence)
			}
			if len(d.Text) > DefaultMaxDraftBytes {
				t.Errorf("draft is %d bytes", len(d.Text))
			}
		})
	}
}

func TestOfflineSaysNothingWhenNothingFits(t *testing.T) {
	o := NewOffline(testIndex(t), OfflineOptions{})
	for _, q := range []string{
		"What will the weather be like in Paris tomorrow?",
		"Who won the football match last night?",
		"Is it going to rain in Lisbon tomorrow?",
		"Hi! Thanks a lot :)",
		"",
	} {
		t.Run(q, func(t *testing.T) {
			emitted := false
			_, err := o.Suggest(t.Context(), ask(q), func(string) { emitted = true })
			if !errors.Is(err, ErrNoSuggestion) || ReasonOf(err) != ReasonNoSuggestion {
				t.Errorf("err = %v, want no_suggestion", err)
			}
			if emitted {
				t.Error("emitted text without a suggestion")
			}
		})
	}
}

func TestOfflinePastReplyIsReaddressedAndRedacted(t *testing.T) {
	o := NewOffline(testIndex(t), OfflineOptions{})
	in := ask("Could you send an invoice with my company VAT number?")
	in.Contact = map[string]string{"name": "João Pereira"}
	d, err := o.Suggest(t.Context(), in, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.Text, "Hi João, sure!") {
		t.Errorf("draft %q is not addressed to this customer", d.Text)
	}
	for _, leak := range []string{"Maria", "maria.costa@example.com", "912 345 678"} {
		if strings.Contains(d.Text, leak) {
			t.Errorf("draft leaks %q from another conversation: %q", leak, d.Text)
		}
	}
	if d.Sources[0] != (Source{Kind: KindReply, ID: "r1", Title: "Invoice with VAT number"}) {
		t.Errorf("source = %+v", d.Sources[0])
	}

	in.Contact = nil
	d, err = o.Suggest(t.Context(), in, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.Text, "Hi, sure!") {
		t.Errorf("without a name the greeting should drop the old one: %q", d.Text)
	}
}

func TestOfflineUsesCustomerTurnsSinceLastReply(t *testing.T) {
	o := NewOffline(testIndex(t), OfflineOptions{})
	in := Input{PromptInput: PromptInput{History: []Turn{
		{Role: RoleCustomer, Text: "Do gift cards expire?"},
		{Role: RoleAgent, Text: "No, never."},
		{Role: RoleNote, Text: "gift card gift card gift card"},
		{Role: RoleCustomer, Text: "Great. And how do I reset my password?"},
		{Role: RoleCustomer, Text: "The reset email never arrived"},
	}}}
	d, err := o.Suggest(t.Context(), in, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	if d.Sources[0].ID != "a3" {
		t.Errorf("source = %s, want a3 (the open question, not the answered one or the note)", d.Sources[0].ID)
	}
}

func TestOfflineCanceled(t *testing.T) {
	o := NewOffline(testIndex(t), OfflineOptions{ChunkBytes: 4})
	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	_, err := o.Suggest(ctx, ask("Do gift cards expire?"), func(string) {
		n++
		cancel()
	})
	if ReasonOf(err) != ReasonCanceled || n != 1 {
		t.Errorf("err = %v after %d deltas, want canceled after 1", err, n)
	}
}

func TestOfflineThresholds(t *testing.T) {
	q := ask("Do gift cards expire?")
	strict := NewOffline(testIndex(t), OfflineOptions{MinScore: 1000})
	if _, err := strict.Suggest(t.Context(), q, func(string) {}); !errors.Is(err, ErrNoSuggestion) {
		t.Errorf("MinScore 1000: err = %v", err)
	}
	empty := NewOffline(NewIndex(), OfflineOptions{})
	if _, err := empty.Suggest(t.Context(), q, func(string) {}); !errors.Is(err, ErrNoSuggestion) {
		t.Errorf("empty index: err = %v", err)
	}
}

func TestPassage(t *testing.T) {
	text := strings.Repeat("Filler sentence about nothing much. ", 30) +
		"Refunds reach your card within five days. " +
		strings.Repeat("More filler text here. ", 30)
	p := Passage(text, "when will my refund arrive", 120)
	if !strings.Contains(p, "Refunds reach your card within five days.") || len(p) > 120 {
		t.Errorf("passage = %q (%d bytes)", p, len(p))
	}
	if got := Passage("Short text.", "anything", 120); got != "Short text." {
		t.Errorf("short text: %q", got)
	}
	long := strings.Repeat("word ", 100)
	if got := Passage(long, "word", 50); len(got) > 50 || !strings.HasSuffix(got, "…") {
		t.Errorf("one long sentence: %q", got)
	}
}

func FuzzPassage(f *testing.F) {
	f.Add("One. Two! Three?\nFour", "two", 8)
	f.Add("ção é. Ünïcode ✓ text.", "text", 5)
	f.Fuzz(func(t *testing.T, text, query string, max int) {
		max = max%2000 + 1
		if max < 0 {
			max = -max
		}
		p := Passage(text, query, max)
		if len(p) > max && len(strings.TrimSpace(text)) > max {
			t.Errorf("passage of %d bytes over max %d", len(p), max)
		}
	})
}
