// Package drafts wires server/ai into the inbox: it decides when a
// conversation gets a draft reply, builds the workspace's suggester from
// its AI settings, assembles what the suggester may know (the
// conversation's recent messages without notes, the contact's facts, the
// workspace's instructions and knowledge), and streams the draft as
// draft.delta, draft.completed and draft.failed on the conversation's
// presence channel, presence-conversation-{id}, of the workspace's Pusher
// app, through the hub (and so its broker: every replica's clients see it).
//
// A draft starts when an inbound message is published (OnEvents, hooked to
// the inbox relay) or when an agent asks for one (Start). At most one draft
// runs per conversation: a newer inbound message cancels the running draft
// and starts a fresh one; an agent's reply (not a private note) or the
// conversation being resolved cancels it, on whichever replica of a
// cluster it runs (cluster.go). AI turned off for the workspace
// or for the contact is checked on every path before anything reaches a
// model. Drafts run on a fixed pool of workers fed by a bounded queue, each
// under a timeout, so a slow, down or garbage-speaking endpoint ends in
// draft.failed and never holds up the relay or a request.
package drafts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/ai"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Errors Start returns, which the API answers with 409 or 503.
var (
	// ErrWorkspaceAIOff: the workspace has AI drafts turned off.
	ErrWorkspaceAIOff = errors.New("drafts: AI drafts are turned off for this workspace")
	// ErrContactAIOff: the conversation's contact has AI processing off.
	ErrContactAIOff = errors.New("drafts: AI processing is turned off for this contact")
	// ErrBusy: the draft queue is full; try again shortly.
	ErrBusy = errors.New("drafts: too many drafts waiting")
	// ErrClosed: the service has stopped (the server is shutting down).
	ErrClosed = errors.New("drafts: service stopped")
	// ErrNoSecretKey: an API key cannot be sealed or opened without
	// SWITCHBOARD_SECRET_KEY.
	ErrNoSecretKey = errors.New("drafts: SWITCHBOARD_SECRET_KEY is not set, so an API key cannot be stored")
)

// ReasonAIOff is the draft.failed reason of a requested draft whose
// workspace or contact had AI turned off before it started.
const ReasonAIOff ai.Reason = "ai_off"

// Defaults of Options.
const (
	DefaultWorkers      = 4
	DefaultQueue        = 256
	DefaultTimeout      = ai.DefaultTimeout
	DefaultPastReplies  = 200
	DefaultReplyRefresh = 5 * time.Minute
	DefaultHistory      = 40
	DefaultMaxIndexes   = 1000
	// maxTriggerAge: an inbound message published later than this after
	// it arrived (the server was down, a backlog is being caught up on)
	// starts no draft by itself; an agent can still ask for one.
	maxTriggerAge  = 10 * time.Minute
	publishTimeout = 5 * time.Second
	// storeReadTimeout bounds the reads that assemble a draft's input.
	storeReadTimeout = 10 * time.Second
	knowledgeHits    = 3
)

// Channel is the presence channel of a conversation, on which its drafts
// are published.
func Channel(conversationID int64) string {
	return "presence-conversation-" + strconv.FormatInt(conversationID, 10)
}

// Store is what the service reads.
type Store interface {
	Workspace(ctx context.Context, id int64) (store.Workspace, error)
	Conversation(ctx context.Context, workspaceID, conversationID int64) (store.Conversation, error)
	Contact(ctx context.Context, workspaceID, contactID int64) (store.Contact, error)
	ListMessages(ctx context.Context, workspaceID, conversationID int64, f store.MessageFilter) ([]store.Message, error)
	AISettings(ctx context.Context, workspaceID int64) (store.AISettings, error)
	ContactAIOffAt(ctx context.Context, workspaceID, contactID int64) (*time.Time, error)
	ListKnowledgeArticles(ctx context.Context, workspaceID int64) ([]store.KnowledgeArticle, error)
	KnowledgeVersion(ctx context.Context, workspaceID int64) (string, error)
	PastReplies(ctx context.Context, workspaceID int64, limit int) ([]store.PastReply, error)
	// autoReplyStore is what auto-replies and hand-overs need (autoreply.go).
	autoReplyStore
	// summaryStore is what summaries need (summary.go).
	summaryStore
}

// Publisher is the hub, as the service uses it.
type Publisher interface {
	Publish(ctx context.Context, app *hub.App, ev hub.Event) error
}

// Endpoint is the server's default OpenAI-compatible endpoint, used by a
// workspace whose settings leave base URL, model or key empty.
type Endpoint struct {
	BaseURL string
	APIKey  string
	Model   string
}

// Options configure a Service. Zero values take the defaults.
type Options struct {
	Logger *slog.Logger
	// Box seals and opens workspaces' API keys; nil allows no stored key.
	Box *secretbox.Box
	// Default is the server's endpoint (SWITCHBOARD_AI_*).
	Default Endpoint
	// Metrics, when set, records every draft (ai.NewMetrics).
	Metrics *ai.Metrics
	// Workers is how many drafts run at once (DefaultWorkers).
	Workers int
	// Queue is how many drafts may wait for a worker (DefaultQueue);
	// beyond it Start answers ErrBusy and triggers are dropped, logged.
	Queue int
	// Timeout bounds one draft, start to end (DefaultTimeout).
	Timeout time.Duration
	// Interval is the delta coalescing interval (ai.DefaultCoalesceInterval).
	Interval time.Duration
	// PastReplies is how many resolved conversations the offline index
	// learns from (DefaultPastReplies); ReplyRefresh is how often they are
	// read again (DefaultReplyRefresh). Articles are re-read whenever they
	// changed.
	PastReplies  int
	ReplyRefresh time.Duration
	// HTTPClient makes the model requests (default: one shared client).
	HTTPClient *http.Client
	// Signals, when set, carries cancellations between replicas (the
	// hub; see cluster.go). Without it a cancellation reaches only the
	// drafts of this replica.
	Signals Signals
}

// Service runs draft replies. Create it with New, start its workers with
// Run, and feed it with OnEvents and Start.
type Service struct {
	st  Store
	pub Publisher
	log *slog.Logger
	// origin tells this service's signals from other replicas'.
	origin string
	opt    Options
	jobs   chan job
	http   *http.Client
	// summaries are the resolved conversations waiting for their summary
	// (summary.go), bounded by Options.Queue.
	summaries chan convKey

	// mu guards convs and closed. Lock order: mu before idxMu; neither is
	// held while calling the store, a suggester or the publisher.
	mu     sync.Mutex
	convs  map[convKey]*convState
	closed bool

	idxMu   sync.Mutex
	indexes map[int64]*cachedIndex
}

type convKey struct{ workspace, conversation int64 }

// convState is what the service knows of a conversation with drafts queued
// or running. gen grows with every trigger and cancellation: a job whose
// gen is no longer current is stale and is skipped (or, running, canceled).
type convState struct {
	gen         uint64
	cancel      context.CancelFunc // of the newest running job, runGen
	runGen      uint64
	jobs        int
	lastInbound int64
	contact     int64 // the conversation's contact, once a draft read it
}

type job struct {
	key       convKey
	gen       uint64
	draftID   string
	requested bool // by an agent (Start), not by an inbound message
	// inbound is the inbound message that triggered the draft, and at
	// when it arrived: what an auto-reply answers (autoreply.go).
	inbound int64
	at      time.Time
}

type cachedIndex struct {
	version string
	built   time.Time
	idx     *ai.Index
}

// New returns a service; call Run to start its workers.
func New(st Store, pub Publisher, opt Options) *Service {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Workers <= 0 {
		opt.Workers = DefaultWorkers
	}
	if opt.Queue <= 0 {
		opt.Queue = DefaultQueue
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.PastReplies <= 0 {
		opt.PastReplies = DefaultPastReplies
	}
	if opt.ReplyRefresh <= 0 {
		opt.ReplyRefresh = DefaultReplyRefresh
	}
	hc := opt.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return &Service{
		st: st, pub: pub, log: opt.Logger, opt: opt, origin: newOrigin(), http: hc, summaries: make(chan convKey, opt.Queue),
		jobs:    make(chan job, opt.Queue),
		convs:   make(map[convKey]*convState),
		indexes: make(map[int64]*cachedIndex),
	}
}

// Run runs the workers until ctx ends, then cancels the running drafts
// (each still publishes its draft.failed) and returns once every worker
// has. Drafts still queued are dropped; Start and OnEvents do nothing
// after Run returns.
func (s *Service) Run(ctx context.Context) {
	s.listen(ctx)
	var wg sync.WaitGroup
	for range s.opt.Workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-s.jobs:
					s.run(ctx, j)
				}
			}
		})
	}
	wg.Go(func() { s.summarize(ctx) })
	<-ctx.Done()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	wg.Wait()
}

// OnEvents reacts to a batch of the workspace's published events: an
// inbound message starts a draft (canceling the conversation's running
// one), an agent's reply or the conversation's resolution cancels it. It
// never blocks, so the relay can call it after every batch.
func (s *Service) OnEvents(workspaceID int64, events []store.Event) {
	for _, ev := range events {
		switch ev.Kind {
		case store.EventMessageCreated:
			var p store.MessagePayload
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				s.log.Error("drafts: undecodable event payload", slog.Int64("workspace", workspaceID),
					slog.Int64("seq", ev.Seq), slog.Any("err", err))
				continue
			}
			key := convKey{workspaceID, p.Message.ConversationID}
			switch {
			case p.Message.Direction == store.DirectionIn:
				if time.Since(p.Message.CreatedAt) > maxTriggerAge {
					continue
				}
				if _, err := s.trigger(key, p.Message.ID, p.Message.CreatedAt, false); err != nil && !errors.Is(err, ErrClosed) {
					s.log.Warn("drafts: draft not started", slog.Int64("workspace", workspaceID),
						slog.Int64("conversation", key.conversation), slog.Any("err", err))
				}
			case p.Message.AuthorKind == store.AuthorAgent && p.Message.Type != store.TypeNote:
				s.Cancel(workspaceID, key.conversation)
			}
		case store.EventConversationUpdated:
			var p store.ConversationPayload
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				s.log.Error("drafts: undecodable event payload", slog.Int64("workspace", workspaceID),
					slog.Int64("seq", ev.Seq), slog.Any("err", err))
				continue
			}
			if p.Conversation.Status == store.StatusResolved && slices.Contains(p.Changed, "status") {
				s.Cancel(workspaceID, p.Conversation.ID)
				s.queueSummary(workspaceID, p.Conversation.ID)
			}
		}
	}
}

// Start starts a draft of the conversation's reply now, canceling any
// running one, and returns its id; its events follow on
// Channel(conversationID). It checks at once that the conversation exists
// in the workspace (store.ErrNotFound) and that AI is on for the workspace
// and the contact (ErrWorkspaceAIOff, ErrContactAIOff).
func (s *Service) Start(ctx context.Context, workspaceID, conversationID int64) (string, error) {
	conv, err := s.st.Conversation(ctx, workspaceID, conversationID)
	if err != nil {
		return "", err
	}
	if _, err := s.allowed(ctx, conv); err != nil {
		return "", err
	}
	return s.trigger(convKey{workspaceID, conversationID}, 0, time.Time{}, true)
}

// Cancel cancels the conversation's running or queued draft, if any, on
// every replica; the running one ends with draft.failed, reason canceled.
func (s *Service) Cancel(workspaceID, conversationID int64) {
	s.cancelConversation(convKey{workspaceID, conversationID}, 0)
	s.broadcast(cancelSignal{Workspace: workspaceID, Conversation: conversationID})
}

// CancelWorkspace cancels every draft of the workspace, queued or
// running, on every replica: AI was turned off for it.
func (s *Service) CancelWorkspace(workspaceID int64) {
	s.cancelWhere(func(k convKey, _ *convState) bool { return k.workspace == workspaceID })
	s.broadcast(cancelSignal{Workspace: workspaceID})
}

// CancelContact cancels every draft of the contact's conversations, queued
// or running, on every replica: AI was turned off for them.
func (s *Service) CancelContact(workspaceID, contactID int64) {
	s.cancelWhere(func(k convKey, c *convState) bool { return k.workspace == workspaceID && c.contact == contactID })
	s.broadcast(cancelSignal{Workspace: workspaceID, Contact: contactID})
}

func (s *Service) cancelWhere(match func(convKey, *convState) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, c := range s.convs {
		if match(k, c) {
			c.gen++
			if c.cancel != nil {
				c.cancel()
			}
		}
	}
}

// trigger queues a draft of key's conversation as its newest generation,
// and cancels the conversation's draft on the other replicas. A message
// id at or below the last one seen (the relay publishes at least once) is
// ignored.
func (s *Service) trigger(key convKey, messageID int64, at time.Time, requested bool) (string, error) {
	id, err := s.queue(key, messageID, at, requested)
	if id != "" {
		s.broadcast(cancelSignal{Workspace: key.workspace, Conversation: key.conversation, Inbound: messageID})
	}
	return id, err
}

// queue is trigger on this replica.
func (s *Service) queue(key convKey, messageID int64, at time.Time, requested bool) (string, error) {
	id := newDraftID()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	c, ok := s.convs[key]
	if !ok {
		c = &convState{}
		s.convs[key] = c
	}
	if messageID != 0 {
		if messageID <= c.lastInbound {
			return "", nil
		}
		c.lastInbound = messageID
	}
	c.gen++
	if c.cancel != nil {
		c.cancel()
	}
	select {
	case s.jobs <- job{key: key, gen: c.gen, draftID: id, requested: requested, inbound: messageID, at: at}:
		c.jobs++
		return id, nil
	default:
		s.release(key, c)
		return "", ErrBusy
	}
}

// release forgets key's conversation once nothing is queued or running
// for it. s.mu is held.
func (s *Service) release(key convKey, c *convState) {
	if c.jobs == 0 && c.cancel == nil {
		delete(s.convs, key)
	}
}

// run runs one job unless a newer trigger or a cancellation superseded it.
func (s *Service) run(ctx context.Context, j job) {
	s.mu.Lock()
	c := s.convs[j.key]
	if c.gen != j.gen {
		c.jobs--
		s.release(j.key, c)
		s.mu.Unlock()
		return
	}
	dctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	c.cancel, c.runGen = cancel, j.gen
	s.mu.Unlock()

	s.draft(dctx, j)

	s.mu.Lock()
	c.jobs--
	if c.runGen == j.gen {
		c.cancel, c.runGen = nil, 0
	}
	s.release(j.key, c)
	s.mu.Unlock()
	cancel()
}

// draft builds the input and suggester for j and runs it, publishing its
// events. Failures before the suggester runs are logged; a requested
// draft also gets a draft.failed, since an agent is waiting for it.
func (s *Service) draft(ctx context.Context, j job) {
	log := s.log.With(slog.Int64("workspace", j.key.workspace), slog.Int64("conversation", j.key.conversation), slog.String("draft", j.draftID))
	// The store reads are not cut short when the draft is canceled: pgx
	// closes a connection whose query is canceled mid-flight, and drafts
	// are canceled all the time (each new customer message replaces one),
	// which churned the pool under load. A canceled draft stops at
	// ai.Run, which reports it.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), storeReadTimeout)
	defer rcancel()
	ws, err := s.st.Workspace(rctx, j.key.workspace)
	if err != nil {
		log.Warn("drafts: load workspace", slog.Any("err", err))
		return
	}
	app := &hub.App{ID: ws.AppID}
	channels := []string{Channel(j.key.conversation)}
	publish := func(event string, data any) {
		b, err := json.Marshal(data)
		if err != nil {
			log.Error("drafts: encode event", slog.String("event", event), slog.Any("err", err))
			return
		}
		// Published even when the draft was canceled, so clients learn
		// to drop its text; bounded, so a stuck broker cannot hold a
		// worker.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
		defer cancel()
		if err := s.pub.Publish(pctx, app, hub.Event{Name: event, Channels: channels, Data: string(b)}); err != nil {
			log.Warn("drafts: publish", slog.String("event", event), slog.Any("err", err))
		}
	}
	failed := func(reason ai.Reason, msg string) {
		if j.requested {
			publish(ai.EventFailed, ai.FailedEvent{DraftID: j.draftID, Reason: reason, Message: msg})
		}
	}

	conv, err := s.st.Conversation(rctx, j.key.workspace, j.key.conversation)
	if err != nil {
		log.Warn("drafts: load conversation", slog.Any("err", err))
		failed(ai.ReasonOf(err), "the conversation could not be read")
		return
	}
	s.mu.Lock()
	if c, ok := s.convs[j.key]; ok {
		c.contact = conv.ContactID
	}
	s.mu.Unlock()
	settings, err := s.allowed(rctx, conv)
	if errors.Is(err, ErrWorkspaceAIOff) || errors.Is(err, ErrContactAIOff) {
		log.Debug("drafts: AI is off", slog.Any("err", err))
		failed(ReasonAIOff, "AI drafts are turned off for this workspace or contact")
		return
	}
	if err != nil {
		log.Warn("drafts: check AI settings", slog.Any("err", err))
		failed(ai.ReasonOf(err), "the AI settings could not be read")
		return
	}
	in, err := s.input(rctx, conv, settings)
	if err != nil {
		log.Warn("drafts: assemble the prompt input", slog.Any("err", err))
		failed(ai.ReasonOf(err), "the conversation could not be read")
		return
	}
	auto := s.planAutoReply(rctx, log, j, conv, in)
	idx, err := s.index(rctx, conv.WorkspaceID)
	if err != nil {
		log.Warn("drafts: load the knowledge base", slog.Any("err", err))
		failed(ai.ReasonOf(err), "the knowledge base could not be read")
		return
	}
	sug, name, err := s.suggester(settings, idx, &in)
	if err != nil {
		log.Warn("drafts: build the suggester", slog.Any("err", err))
		// Every agent sees this one: an administrator must act.
		publish(ai.EventFailed, ai.FailedEvent{DraftID: j.draftID, Reason: ai.ReasonMisconfigured, Message: "the AI settings are incomplete: " + err.Error()})
		return
	}
	if s.opt.Metrics != nil {
		sug = ai.Instrument(name, sug, s.opt.Metrics)
	}
	d, err := ai.Run(ctx, sug, in, ai.RunOptions{DraftID: j.draftID, Interval: s.opt.Interval, Publish: publish})
	switch r := ai.ReasonOf(err); r {
	case "":
		log.Debug("drafts: draft completed", slog.String("model", d.Model), slog.Int("bytes", len(d.Text)))
		if auto.on {
			s.autoReply(ctx, log, j, conv, auto, d, in)
		}
	case ai.ReasonCanceled, ai.ReasonNoSuggestion:
		log.Debug("drafts: no draft", slog.String("reason", string(r)))
	default:
		log.Warn("drafts: draft failed", slog.String("reason", string(r)), slog.Any("err", err))
	}
}

// allowed returns the workspace's settings if AI may process the
// conversation: on for the workspace and for its contact.
func (s *Service) allowed(ctx context.Context, conv store.Conversation) (store.AISettings, error) {
	settings, err := s.st.AISettings(ctx, conv.WorkspaceID)
	if err != nil {
		return store.AISettings{}, err
	}
	if !settings.Enabled {
		return store.AISettings{}, ErrWorkspaceAIOff
	}
	off, err := s.st.ContactAIOffAt(ctx, conv.WorkspaceID, conv.ContactID)
	if err != nil {
		return store.AISettings{}, err
	}
	if off != nil {
		return store.AISettings{}, ErrContactAIOff
	}
	return settings, nil
}

// input assembles what the suggester may know of conv.
func (s *Service) input(ctx context.Context, conv store.Conversation, settings store.AISettings) (ai.Input, error) {
	msgs, err := s.st.ListMessages(ctx, conv.WorkspaceID, conv.ID, store.MessageFilter{Limit: DefaultHistory})
	if err != nil {
		return ai.Input{}, err
	}
	contact, err := s.st.Contact(ctx, conv.WorkspaceID, conv.ContactID)
	if err != nil {
		return ai.Input{}, err
	}
	in := ai.Input{
		Workspace:    strconv.FormatInt(conv.WorkspaceID, 10),
		Conversation: strconv.FormatInt(conv.ID, 10),
		PromptInput: ai.PromptInput{
			Instructions: settings.Instructions,
			BrandVoice:   settings.BrandVoice,
			Contact:      contactFacts(contact),
			History:      history(msgs),
		},
	}
	return in, nil
}

// history turns messages, newest first as ListMessages returns them, into
// turns oldest first. Notes are left out here already: they never leave
// the server.
func history(msgs []store.Message) []ai.Turn {
	out := make([]ai.Turn, 0, len(msgs))
	for _, m := range slices.Backward(msgs) {
		if m.Type == store.TypeNote || m.Body == "" {
			continue
		}
		role := ai.RoleAgent
		if m.Direction == store.DirectionIn {
			role = ai.RoleCustomer
		}
		out = append(out, ai.Turn{Role: role, Text: m.Body, At: m.CreatedAt})
	}
	return out
}

// contactFacts are the contact's name and its custom attributes of simple
// values (strings, numbers, booleans). Email and phone are left out: a
// draft has no use for them.
func contactFacts(c store.Contact) map[string]string {
	facts := map[string]string{}
	if c.Name != "" {
		facts["name"] = c.Name
	}
	var attrs map[string]any
	if len(c.Attributes) > 0 && json.Unmarshal(c.Attributes, &attrs) == nil {
		for k, v := range attrs {
			switch v := v.(type) {
			case string:
				facts[k] = v
			case float64:
				facts[k] = strconv.FormatFloat(v, 'f', -1, 64)
			case bool:
				facts[k] = strconv.FormatBool(v)
			}
		}
	}
	return facts
}

// suggester returns the workspace's suggester and its metrics name; for a
// model it also puts the retrieved knowledge into in.
func (s *Service) suggester(settings store.AISettings, idx *ai.Index, in *ai.Input) (ai.Suggester, string, error) {
	if settings.Provider != store.AIProviderOpenAI {
		return ai.NewOffline(idx, ai.OfflineOptions{}), "offline", nil
	}
	cfg := ai.OpenAIConfig{
		BaseURL:    firstOf(settings.BaseURL, s.opt.Default.BaseURL),
		Model:      firstOf(settings.Model, s.opt.Default.Model),
		APIKey:     s.opt.Default.APIKey,
		Timeout:    s.opt.Timeout,
		Prompt:     ai.PromptOptions{Redact: settings.Redact},
		HTTPClient: s.http,
		Logger:     s.log,
	}
	if len(settings.APIKey) > 0 {
		var err error
		if cfg.APIKey, err = s.OpenKey(settings.WorkspaceID, settings.APIKey); err != nil {
			return nil, "", err
		}
	}
	o, err := ai.NewOpenAI(cfg)
	if err != nil {
		return nil, "", err
	}
	in.Knowledge = idx.Search(ai.Query(in.History), knowledgeHits)
	return o, "openai", nil
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// index returns the workspace's knowledge index: its articles and past
// replies, rebuilt when an article changed or the replies are older than
// ReplyRefresh.
func (s *Service) index(ctx context.Context, workspaceID int64) (*ai.Index, error) {
	version, err := s.st.KnowledgeVersion(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	s.idxMu.Lock()
	c, ok := s.indexes[workspaceID]
	s.idxMu.Unlock()
	if ok && c.version == version && time.Since(c.built) < s.opt.ReplyRefresh {
		return c.idx, nil
	}
	built := time.Now()
	articles, err := s.st.ListKnowledgeArticles(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	replies, err := s.st.PastReplies(ctx, workspaceID, s.opt.PastReplies)
	if err != nil {
		return nil, err
	}
	idx := ai.NewIndex()
	for _, a := range articles {
		idx.Add(ai.Doc{Kind: ai.KindArticle, ID: strconv.FormatInt(a.ID, 10), Title: a.Title, Text: a.Body})
	}
	for _, r := range replies {
		idx.Add(ai.Doc{Kind: ai.KindReply, ID: strconv.FormatInt(r.ConversationID, 10),
			Title: "Conversation " + strconv.FormatInt(r.ConversationID, 10), Text: r.Question, Answer: r.Answer})
	}
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	if len(s.indexes) >= DefaultMaxIndexes {
		for id := range s.indexes { // evict one, any: rebuilding is cheap
			delete(s.indexes, id)
			break
		}
	}
	s.indexes[workspaceID] = &cachedIndex{version: version, built: built, idx: idx}
	return idx, nil
}

// keyOwner binds a sealed key to its workspace.
func keyOwner(workspaceID int64) string { return "ai-settings:" + strconv.FormatInt(workspaceID, 10) }

// SealKey seals a workspace's API key for store.AISettings.APIKey.
func (s *Service) SealKey(workspaceID int64, key string) ([]byte, error) {
	if s.opt.Box == nil {
		return nil, ErrNoSecretKey
	}
	return s.opt.Box.Seal([]byte(key), keyOwner(workspaceID))
}

// OpenKey opens a key SealKey sealed for the workspace.
func (s *Service) OpenKey(workspaceID int64, sealed []byte) (string, error) {
	if s.opt.Box == nil {
		return "", ErrNoSecretKey
	}
	plain, err := s.opt.Box.Open(sealed, keyOwner(workspaceID))
	if err != nil {
		return "", fmt.Errorf("the workspace's API key cannot be opened (was SWITCHBOARD_SECRET_KEY changed?): %w", err)
	}
	return string(plain), nil
}

// newDraftID returns a random draft id.
func newDraftID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "drf_" + hex.EncodeToString(b)
}
