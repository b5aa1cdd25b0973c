package ai_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/ai"
)

// A workspace without a model endpoint: the offline suggester drafts from
// the help centre, and Run turns the draft into events for the
// conversation's channel.
func ExampleRun() {
	idx := ai.NewIndex()
	idx.Add(ai.Doc{Kind: ai.KindArticle, ID: "42", Title: "Gift cards",
		Text: "Gift cards are sent by email and never expire. Redeem the code at checkout."})
	idx.Add(ai.Doc{Kind: ai.KindArticle, ID: "43", Title: "Returns",
		Text: "Return any unworn item within 30 days."})

	in := ai.Input{Workspace: "acme", Conversation: "c1", PromptInput: ai.PromptInput{
		History: []ai.Turn{{Role: ai.RoleCustomer, Text: "Hi! Do your gift cards expire?"}},
	}}
	var deltas strings.Builder
	publish := func(event string, data any) {
		switch e := data.(type) {
		case ai.DeltaEvent:
			deltas.WriteString(e.Text)
		case ai.CompletedEvent:
			fmt.Printf("%s %s: %q from %s %q\n", event, e.DraftID, e.Text, e.Sources[0].Kind, e.Sources[0].Title)
		case ai.FailedEvent:
			fmt.Println(event, e.Reason)
		}
	}
	suggester := ai.NewOffline(idx, ai.OfflineOptions{})
	d, err := ai.Run(context.Background(), suggester, in, ai.RunOptions{DraftID: "d1", Publish: publish})
	fmt.Println(err == nil, deltas.String() == d.Text)

	in.History = []ai.Turn{{Role: ai.RoleCustomer, Text: "What's the weather in Lisbon?"}}
	_, err = ai.Run(context.Background(), suggester, in, ai.RunOptions{DraftID: "d2", Publish: publish})
	fmt.Println(ai.ReasonOf(err))
	// Output:
	// draft.completed d1: "Gift cards are sent by email and never expire. Redeem the code at checkout." from article "Gift cards"
	// true true
	// draft.failed no_suggestion
	// no_suggestion
}
