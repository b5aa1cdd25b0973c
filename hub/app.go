package hub

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
)

// ErrAppNotFound is returned by an AppStore that knows no app by the given
// key or id. The websocket edge answers it with close code 4001, the HTTP API
// with 404.
var ErrAppNotFound = errors.New("app not found")

// Default limits applied to an App whose own limit is zero.
const (
	DefaultMaxPresenceMembers = 100
	DefaultMaxUserInfoBytes   = 1024
	DefaultMaxEventBytes      = 10 * 1024
	DefaultClientEventRate    = 10
	DefaultMaxEventChannels   = 100
	DefaultMaxBatchEvents     = 10
)

// App is one Pusher application: its credentials, switches and limits. Every
// inbox workspace is an App too; plain Pusher users configure theirs
// statically. An App is immutable once handed to the hub: an AppStore that
// changes an app returns a new value.
type App struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Secret string `json:"secret"`

	// Enabled false refuses new connections (4003) and API calls (403).
	Enabled bool `json:"enabled"`
	// ClientEvents allows client-* events on private and presence channels.
	ClientEvents bool `json:"client_events"`
	// MaxConnections bounds this app's concurrent connections (4004 beyond);
	// zero means unbounded.
	MaxConnections int `json:"max_connections,omitempty"`
	// MaxPresenceMembers bounds distinct users on one presence channel.
	MaxPresenceMembers int `json:"max_presence_members,omitempty"`
	// MaxUserInfoBytes bounds a presence member's encoded user_info.
	MaxUserInfoBytes int `json:"max_user_info_bytes,omitempty"`
	// MaxEventBytes bounds the data of one event, from the API (413 beyond)
	// or from a client event.
	MaxEventBytes int `json:"max_event_bytes,omitempty"`
	// ClientEventRate is client events allowed per second per connection
	// (4301 beyond).
	ClientEventRate int `json:"client_event_rate,omitempty"`
	// Webhooks are the endpoints told about channel and member changes.
	Webhooks []Webhook `json:"webhooks,omitempty"`
}

// Webhook is one endpoint the hub POSTs Pusher webhooks to. EventTypes
// filters which events it receives; empty means all.
type Webhook struct {
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types,omitempty"`
}

// The webhook event names Pusher documents.
const (
	WebhookChannelOccupied = "channel_occupied"
	WebhookChannelVacated  = "channel_vacated"
	WebhookMemberAdded     = "member_added"
	WebhookMemberRemoved   = "member_removed"
	WebhookClientEvent     = "client_event"
	WebhookCacheMiss       = "cache_miss"
)

var webhookEventTypes = map[string]bool{
	WebhookChannelOccupied: true, WebhookChannelVacated: true,
	WebhookMemberAdded: true, WebhookMemberRemoved: true,
	WebhookClientEvent: true, WebhookCacheMiss: true,
}

var appIdentRe = regexp.MustCompile(`^[A-Za-z0-9_\-.]{1,128}$`)

// WithDefaults returns a copy of a with every zero limit replaced by its
// default.
func (a App) WithDefaults() App {
	if a.MaxPresenceMembers <= 0 {
		a.MaxPresenceMembers = DefaultMaxPresenceMembers
	}
	if a.MaxUserInfoBytes <= 0 {
		a.MaxUserInfoBytes = DefaultMaxUserInfoBytes
	}
	if a.MaxEventBytes <= 0 {
		a.MaxEventBytes = DefaultMaxEventBytes
	}
	if a.ClientEventRate <= 0 {
		a.ClientEventRate = DefaultClientEventRate
	}
	return a
}

// Validate reports the first thing wrong with a's configuration.
func (a App) Validate() error {
	switch {
	case !appIdentRe.MatchString(a.ID):
		return fmt.Errorf("app id %q: want 1-128 of [A-Za-z0-9_-.]", a.ID)
	case !appIdentRe.MatchString(a.Key):
		return fmt.Errorf("app %s: key %q: want 1-128 of [A-Za-z0-9_-.]", a.ID, a.Key)
	case len(a.Secret) < 8:
		return fmt.Errorf("app %s: secret must be at least 8 characters", a.ID)
	case a.MaxConnections < 0 || a.MaxPresenceMembers < 0 || a.MaxUserInfoBytes < 0 ||
		a.MaxEventBytes < 0 || a.ClientEventRate < 0:
		return fmt.Errorf("app %s: limits must not be negative", a.ID)
	}
	for _, w := range a.Webhooks {
		if w.URL == "" {
			return fmt.Errorf("app %s: webhook without url", a.ID)
		}
		for _, t := range w.EventTypes {
			if !webhookEventTypes[t] {
				return fmt.Errorf("app %s: webhook %s: unknown event type %q", a.ID, w.URL, t)
			}
		}
	}
	return nil
}

// AppStore finds apps. The static store serves configured apps; the inbox
// serves one app per workspace from the database. Implementations must be
// safe for concurrent use and fast: AppByKey runs on every connection.
type AppStore interface {
	AppByKey(ctx context.Context, key string) (*App, error)
	AppByID(ctx context.Context, id string) (*App, error)
}

// StaticApps is an AppStore over a fixed set of apps.
type StaticApps struct {
	mu    sync.RWMutex
	byKey map[string]*App
	byID  map[string]*App
}

// NewStaticApps validates apps, applies default limits and indexes them by
// key and id. Duplicate ids or keys are an error.
func NewStaticApps(apps ...App) (*StaticApps, error) {
	s := &StaticApps{byKey: make(map[string]*App), byID: make(map[string]*App)}
	for _, a := range apps {
		if err := a.Validate(); err != nil {
			return nil, err
		}
		if _, dup := s.byID[a.ID]; dup {
			return nil, fmt.Errorf("app id %q configured twice", a.ID)
		}
		if _, dup := s.byKey[a.Key]; dup {
			return nil, fmt.Errorf("app key %q configured twice", a.Key)
		}
		a = a.WithDefaults()
		s.byID[a.ID] = &a
		s.byKey[a.Key] = &a
	}
	return s, nil
}

// AppByKey implements AppStore.
func (s *StaticApps) AppByKey(_ context.Context, key string) (*App, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if a, ok := s.byKey[key]; ok {
		return a, nil
	}
	return nil, ErrAppNotFound
}

// AppByID implements AppStore.
func (s *StaticApps) AppByID(_ context.Context, id string) (*App, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if a, ok := s.byID[id]; ok {
		return a, nil
	}
	return nil, ErrAppNotFound
}

// Apps returns every configured app, for start-up logging.
func (s *StaticApps) Apps() []*App {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*App, 0, len(s.byID))
	for _, a := range s.byID {
		out = append(out, a)
	}
	return out
}
