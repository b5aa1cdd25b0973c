package ai_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/switchboard-inbox/switchboard/server/ai"
)

func customer(texts ...string) ai.SummaryInput {
	var in ai.SummaryInput
	for _, t := range texts {
		in.History = append(in.History, ai.Turn{Role: ai.RoleCustomer, Text: t})
	}
	return in
}

// TestSummarizeLabels: sentiment follows the lexicon with negation,
// intent the first matching rule, and a lead is purchase intent or a
// question of price, quote or demo.
func TestSummarizeLabels(t *testing.T) {
	tests := []struct {
		name      string
		in        ai.SummaryInput
		sentiment ai.Sentiment
		intent    ai.Intent
		lead      bool
	}{
		{"empty", ai.SummaryInput{}, ai.SentimentNeutral, ai.IntentOther, false},
		{"thanks", customer("Thanks, that was really helpful!"), ai.SentimentPositive, ai.IntentOther, false},
		{"negated positive", customer("The app is not good at all."), ai.SentimentNegative, ai.IntentComplaint, false},
		{"negated negative", customer("Honestly it's not bad."), ai.SentimentPositive, ai.IntentOther, false},
		{"curly negation", customer("It isn\u2019t great, frankly."), ai.SentimentNegative, ai.IntentComplaint, false},
		{"negation stays in its sentence", customer("No. Great service."), ai.SentimentPositive, ai.IntentOther, false},
		{"question mark", customer("Where is my parcel?"), ai.SentimentNeutral, ai.IntentQuestion, false},
		{"question without mark", customer("how do I reset my password"), ai.SentimentNeutral, ai.IntentQuestion, false},
		{"complaint", customer("My order arrived damaged and I want a refund."), ai.SentimentNegative, ai.IntentComplaint, false},
		{"complaint phrase", customer("The login does not work since Monday"), ai.SentimentNeutral, ai.IntentComplaint, false},
		{"negative without keyword", customer("This is awful."), ai.SentimentNegative, ai.IntentComplaint, false},
		{"cancellation beats complaint", customer("Terrible service, please cancel my subscription."), ai.SentimentNegative, ai.IntentCancellation, false},
		{"purchase", customer("I'd like to buy 20 licences for my team."), ai.SentimentNeutral, ai.IntentPurchase, true},
		{"pricing question", customer("What is your pricing for teams?"), ai.SentimentNeutral, ai.IntentPurchase, true},
		{"demo is a lead", customer("Could we book a demo next week?"), ai.SentimentNeutral, ai.IntentQuestion, true},
		{"whole words only", customer("This is priceless, thanks"), ai.SentimentPositive, ai.IntentOther, false},
		{"agent turns ignored", ai.SummaryInput{History: []ai.Turn{
			{Role: ai.RoleAgent, Text: "Do you want to cancel? Our pricing is great."},
			{Role: ai.RoleCustomer, Text: "ok"},
		}}, ai.SentimentNeutral, ai.IntentOther, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ai.Summarize(tt.in)
			if got.Sentiment != tt.sentiment || got.Intent != tt.intent || got.Lead != tt.lead {
				t.Fatalf("Summarize = %s/%s/lead=%v, want %s/%s/lead=%v", got.Sentiment, got.Intent, got.Lead, tt.sentiment, tt.intent, tt.lead)
			}
			if got.Model != ai.SummaryModel {
				t.Fatalf("model %q", got.Model)
			}
		})
	}
}

// TestSummarizeText: the summary keeps the customer's most informative
// sentences in their order, redacts contact details and stays bounded.
func TestSummarizeText(t *testing.T) {
	tests := []struct {
		name string
		in   ai.SummaryInput
		want string
	}{
		{"greetings dropped", customer("Hi", "ok", "My invoice for March shows the wrong amount."), "My invoice for March shows the wrong amount."},
		{"top three in order", customer(
			"Hello there.",
			"I ordered a blue jacket last Tuesday, order 4411.",
			"It has not arrived yet.",
			"The tracking page says delivered but nothing came to my building.",
			"Thanks.",
			"Can you check with the courier and resend it?",
		), "I ordered a blue jacket last Tuesday, order 4411. The tracking page says delivered but nothing came to my building. Can you check with the courier and resend it?"},
		{"redacted", customer("Please email me at jane.doe@example.com about the refund."), "Please email me at [email] about the refund."},
		{"agent text never kept", ai.SummaryInput{History: []ai.Turn{
			{Role: ai.RoleAgent, Text: "We will send a replacement jacket tomorrow morning."},
			{Role: ai.RoleCustomer, Text: "Great, thanks a lot!"},
		}}, "Great, thanks a lot!"},
		{"lines are sentences", customer("first line about shipping\nsecond line about billing"), "first line about shipping second line about billing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ai.Summarize(tt.in).Text; got != tt.want {
				t.Fatalf("summary\n got %q\nwant %q", got, tt.want)
			}
		})
	}

	t.Run("bounded", func(t *testing.T) {
		long := strings.Repeat("é lorem ipsum dolor ", 100) // one 2,000-byte sentence
		got := ai.Summarize(customer(long, "Short second sentence here.")).Text
		if len(got) > ai.MaxSummaryBytes || !utf8.ValidString(got) || got == "" {
			t.Fatalf("summary of %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
		}
	})
}

// FuzzSummarize: any text gives a bounded, valid summary and known labels.
func FuzzSummarize(f *testing.F) {
	for _, s := range []string{"", "Where is my order?", "not bad. not good!\nrefund", "a.b.c...", "\u2019'''", "call +44 20 7946 0958"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := ai.Summarize(customer(text, text))
		if len(got.Text) > ai.MaxSummaryBytes {
			t.Fatalf("summary of %d bytes", len(got.Text))
		}
		if utf8.ValidString(text) && !utf8.ValidString(got.Text) {
			t.Fatalf("invalid UTF-8 summary %q", got.Text)
		}
		switch got.Sentiment {
		case ai.SentimentPositive, ai.SentimentNeutral, ai.SentimentNegative:
		default:
			t.Fatalf("sentiment %q", got.Sentiment)
		}
		switch got.Intent {
		case ai.IntentQuestion, ai.IntentComplaint, ai.IntentPurchase, ai.IntentCancellation, ai.IntentOther:
		default:
			t.Fatalf("intent %q", got.Intent)
		}
	})
}
