package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/store"
)

func TestChannelNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{WorkspaceChannel(12), "private-workspace-12"},
		{AgentChannel(7), "private-agent-7"},
		{AgentChannel(1 << 40), "private-agent-1099511627776"},
	} {
		if tc.got != tc.want {
			t.Errorf("channel %q, want %q", tc.got, tc.want)
		}
	}
}

// frames reads n frames and returns them as "seq event channel", checking
// that each frame's data is an event of the frame's name.
func (s *subscriber) frames(n int) []string {
	s.t.Helper()
	var got []string
	for range n {
		f := s.next()
		var ev store.Event
		if err := json.Unmarshal([]byte(f.Data), &ev); err != nil {
			s.t.Fatalf("event data %q: %v", f.Data, err)
		}
		if ev.Kind != f.Event {
			s.t.Errorf("frame event %q carries kind %q", f.Event, ev.Kind)
		}
		got = append(got, fmt.Sprintf("%d %s %s", ev.Seq, f.Event, f.Channel))
	}
	return got
}

// addAgent makes a new agent of the rig's workspace.
func (r *relayRig) addAgent(t *testing.T, name string) store.Agent {
	t.Helper()
	a, err := r.st.CreateAgent(context.Background(), r.ws.ID, store.NewAgent{Email: strings.ToLower(name) + "@acme.test", Name: name, Role: store.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (r *relayRig) assign(t *testing.T, convID, agentID int64) {
	t.Helper()
	if _, _, err := r.st.UpdateConversation(context.Background(), r.ws.ID, convID, store.ConversationUpdate{AssigneeID: &agentID}); err != nil {
		t.Fatal(err)
	}
}

// TestRelayPublishesAgentEvents: an agent's channel gets
// conversation.assigned when a conversation is assigned to them (not when
// something else of an assigned conversation changes) and note.mentioned
// when a note mentions them, each with the seq of the log event it comes
// from and right after it.
func TestRelayPublishesAgentEvents(t *testing.T) {
	r := newRelayRig(t)
	ctx := context.Background()
	xavier, yolanda := r.addAgent(t, "Xavier"), r.addAgent(t, "Yolanda")
	wsCh, xCh, yCh := WorkspaceChannel(r.ws.ID), AgentChannel(xavier.ID), AgentChannel(yolanda.ID)
	// Xavier watches the workspace and his own channel on one connection;
	// Yolanda only her own.
	x := r.subscribeTo(t, wsCh, xCh)
	y := r.subscribeTo(t, yCh)

	r.assign(t, r.conv.ID, xavier.ID) // seq 2
	if _, _, err := r.st.UpdateConversation(ctx, r.ws.ID, r.conv.ID, store.ConversationUpdate{Priority: ptr(store.PriorityHigh)}); err != nil {
		t.Fatal(err) // seq 3: still Xavier's, not assigned again
	}
	note, err := r.st.CreateMessage(ctx, r.ws.ID, store.NewMessage{ConversationID: r.conv.ID, Direction: store.DirectionOut,
		AuthorKind: store.AuthorAgent, AuthorAgentID: xavier.ID, Type: store.TypeNote, Body: "@Yolanda @Xavier look",
		Mentions: []int64{yolanda.ID, xavier.ID}}) // seq 4
	if err != nil {
		t.Fatal(err)
	}
	r.assign(t, r.conv.ID, yolanda.ID) // seq 5
	r.message(t, "hello")              // seq 6
	conv, _, err := r.st.CreateConversation(ctx, r.ws.ID, store.NewConversation{InboxID: r.conv.InboxID, ContactID: r.conv.ContactID, AssigneeID: xavier.ID})
	if err != nil {
		t.Fatal(err) // seq 7: created assigned
	}
	r.assign(t, conv.ID, 0) // seq 8: unassigned is nobody's

	r.startRelay(t)
	wantX := []string{
		"1 conversation.created " + wsCh,
		"2 conversation.updated " + wsCh,
		"2 conversation.assigned " + xCh,
		"3 conversation.updated " + wsCh,
		"4 note.created " + wsCh,
		"4 note.mentioned " + xCh,
		"5 conversation.updated " + wsCh,
		"6 message.created " + wsCh,
		"7 conversation.created " + wsCh,
		"7 conversation.assigned " + xCh,
		"8 conversation.updated " + wsCh,
	}
	if got := x.frames(len(wantX)); !slices.Equal(got, wantX) {
		t.Errorf("Xavier's connection got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantX, "\n"))
	}
	// Yolanda's first frame is log event 4 renamed: same seq, same payload.
	f := y.next()
	var got store.Event
	if err := json.Unmarshal([]byte(f.Data), &got); err != nil {
		t.Fatal(err)
	}
	page, err := r.st.EventsAfter(ctx, r.ws.ID, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	logged := page.Events[0]
	var p store.MessagePayload
	if err := json.Unmarshal(logged.Payload, &p); err != nil || p.Message.ID != note.Message.ID {
		t.Fatalf("log event 4 is %+v (%v), want the note", logged, err)
	}
	if f.Event != EventNoteMentioned || f.Channel != yCh || got.Seq != 4 || got.Kind != EventNoteMentioned ||
		got.WorkspaceID != r.ws.ID || got.ConversationID != r.conv.ID || !sameJSON(got.Payload, logged.Payload) {
		t.Errorf("Yolanda's mention %+v: %+v, want log event %+v renamed", f, got, logged)
	}
	if got := y.frames(1); !slices.Equal(got, []string{"5 conversation.assigned " + yCh}) {
		t.Errorf("Yolanda's next frame %q, want her assignment", got)
	}
}

func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// recordingPublisher records what it is asked to publish and fails the
// first publish to any channel failOn matches.
type recordingPublisher struct {
	mu        sync.Mutex
	published []string
	failOn    func(channel string) bool
	failed    bool
}

var errHubDown = errors.New("hub down")

func (p *recordingPublisher) Publish(_ context.Context, _ *hub.App, ev hub.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ch := range ev.Channels {
		if !p.failed && p.failOn(ch) {
			p.failed = true
			return errHubDown
		}
	}
	var seq struct {
		Seq int64 `json:"seq"`
	}
	if err := json.Unmarshal([]byte(ev.Data), &seq); err != nil {
		return fmt.Errorf("event data %q: %w", ev.Data, err)
	}
	p.published = append(p.published, fmt.Sprintf("%d %s %s", seq.Seq, ev.Name, strings.Join(ev.Channels, ",")))
	return nil
}

// TestRelayRetriesAgentEvents: when an agent event fails to publish, the
// durable mark stays before its log event, so the next pass publishes
// both again — at least once, never lost.
func TestRelayRetriesAgentEvents(t *testing.T) {
	r := newRelayRig(t)
	ctx := context.Background()
	xavier := r.addAgent(t, "Xavier")
	r.assign(t, r.conv.ID, xavier.ID) // seq 2
	r.message(t, "after")             // seq 3
	pub := &recordingPublisher{failOn: func(ch string) bool { return ch == AgentChannel(xavier.ID) }}
	relay := NewRelay(r.st, pub, RelayOptions{})

	if err := relay.publishErr(ctx, r.ws.ID); !errors.Is(err, errHubDown) {
		t.Fatalf("first pass: %v, want the hub's error", err)
	}
	if seq, err := r.st.PublishedSeq(ctx, r.ws.ID); err != nil || seq != 0 {
		// Nothing is marked until a page is through.
		t.Fatalf("published seq %d (%v) after the failed pass, want 0", seq, err)
	}
	if err := relay.publishErr(ctx, r.ws.ID); err != nil {
		t.Fatalf("second pass: %v", err)
	}
	wsCh, xCh := WorkspaceChannel(r.ws.ID), AgentChannel(xavier.ID)
	want := []string{
		"1 conversation.created " + wsCh,
		"2 conversation.updated " + wsCh, // the failed pass
		"1 conversation.created " + wsCh, // the second pass
		"2 conversation.updated " + wsCh,
		"2 conversation.assigned " + xCh,
		"3 message.created " + wsCh,
	}
	if !slices.Equal(pub.published, want) {
		t.Errorf("published\n%s\nwant\n%s", strings.Join(pub.published, "\n"), strings.Join(want, "\n"))
	}
	if seq, err := r.st.PublishedSeq(ctx, r.ws.ID); err != nil || seq != 3 {
		t.Fatalf("published seq %d (%v), want 3", seq, err)
	}
}

// TestAgentEventSkipsUndecodablePayload: a payload the relay cannot read
// costs its agent events, not the workspace's log.
func TestAgentEventSkipsUndecodablePayload(t *testing.T) {
	for _, ev := range []store.Event{
		{Kind: store.EventConversationUpdated, Payload: json.RawMessage(`{"conversation":7}`)},
		{Kind: store.EventNoteCreated, Payload: json.RawMessage(`[]`)},
	} {
		if _, _, err := agentEvent(ev); err == nil {
			t.Errorf("%s %s: no error", ev.Kind, ev.Payload)
		}
	}
	for _, tc := range []struct {
		ev   store.Event
		want string
	}{
		{store.Event{Kind: store.EventConversationUpdated, Payload: json.RawMessage(`{"conversation":{"assignee_id":4},"changed":["status"]}`)}, " []"},
		{store.Event{Kind: store.EventConversationUpdated, Payload: json.RawMessage(`{"conversation":{"assignee_id":4},"changed":["assignee_id"]}`)}, "conversation.assigned [4]"},
		{store.Event{Kind: store.EventConversationUpdated, Payload: json.RawMessage(`{"conversation":{},"changed":["assignee_id"]}`)}, " []"},
		{store.Event{Kind: store.EventConversationRead, Payload: json.RawMessage(`{"conversation":{"assignee_id":4},"agent_id":4}`)}, " []"},
		{store.Event{Kind: store.EventNoteCreated, Payload: json.RawMessage(`{"message":{"mentions":[2,3]}}`)}, "note.mentioned [2 3]"},
		{store.Event{Kind: store.EventNoteCreated, Payload: json.RawMessage(`{"message":{}}`)}, "note.mentioned []"},
		{store.Event{Kind: store.EventTeamCreated, Payload: json.RawMessage(`{"team":{}}`)}, " []"},
	} {
		name, agents, err := agentEvent(tc.ev)
		if got := fmt.Sprintf("%s %v", name, agents); err != nil || got != tc.want {
			t.Errorf("%s %s: %q (%v), want %q", tc.ev.Kind, tc.ev.Payload, got, err, tc.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
