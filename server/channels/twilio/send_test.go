package twilio_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/channels/twilio"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// fakeTwilio is Twilio's Messages API as documented: it records each
// request and answers with the next canned status and body.
type fakeTwilio struct {
	srv *httptest.Server
	mu  sync.Mutex
	// answers are served in order; the last one repeats.
	answers  []answer
	requests []recorded
}

type answer struct {
	status int
	body   string
}

type recorded struct {
	method, path, contentType string
	user, pass                string
	basic                     bool
	form                      url.Values
}

func newFakeTwilio(t testing.TB, answers ...answer) *fakeTwilio {
	f := &fakeTwilio{answers: answers}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		user, pass, basic := r.BasicAuth()
		f.mu.Lock()
		f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.Header.Get("Content-Type"), user, pass, basic, form})
		a := f.answers[0]
		if len(f.answers) > 1 {
			f.answers = f.answers[1:]
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilio) last(t testing.TB) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("no request reached the fake Twilio")
	}
	return f.requests[len(f.requests)-1]
}

// reply stores an agent-less outbound reply in the customer's
// conversation, as the outbox hands it to a sender.
func (e *env) reply(t testing.TB, text string) store.Message {
	t.Helper()
	if len(e.messages()) == 0 {
		e.mustDeliver("webhook", fixture(t, "sms.form"))
	}
	created, err := e.st.CreateMessage(context.Background(), e.ws.ID, store.NewMessage{
		ConversationID: e.messages()[0].ConversationID, Direction: store.DirectionOut, AuthorKind: store.AuthorSystem, Body: text,
	})
	if err != nil {
		t.Fatal(err)
	}
	return created.Message
}

type permanentError interface{ Permanent() bool }

func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p) && p.Permanent()
}

func TestSendRequestShape(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), envOptions{})
	api := newFakeTwilio(t, answer{201, string(fixture(t, "message_created.json"))})
	s := twilio.NewSender(twilio.SenderOptions{Store: e.st, Box: e.box, APIBase: api.srv.URL + "/", PublicURL: "https://inbox.example.com/"})
	m := e.reply(t, "Yes, it ships today. Track it at https://example.com/t?id=42&x=1")
	sid, err := s.Send(context.Background(), m)
	if err != nil || sid != "SMb7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2" {
		t.Fatalf("Send = %q, %v; want Twilio's sid", sid, err)
	}
	r := api.last(t)
	if r.method != http.MethodPost || r.path != "/2010-04-01/Accounts/"+accountSID+"/Messages.json" || r.contentType != "application/x-www-form-urlencoded" {
		t.Errorf("request %s %s %s", r.method, r.path, r.contentType)
	}
	if !r.basic || r.user != accountSID || r.pass != authToken {
		t.Errorf("basic auth %v %q: want the account SID and auth token", r.basic, r.user)
	}
	want := url.Values{
		"To":             {customer},
		"From":           {inboxNumber},
		"Body":           {m.Body},
		"StatusCallback": {"https://inbox.example.com/channels/sms/" + strconv.FormatInt(e.inbox.ID, 10) + "/status"},
	}
	if r.form.Encode() != want.Encode() {
		t.Errorf("form %v\nwant %v", r.form, want)
	}
}

func TestSendWithServiceAndAPIKey(t *testing.T) {
	const service = "MG0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	const keySID = "SK0123456789abcdef0123456789abcdef"
	e := newEnv(t, teststore.SQLite(t), envOptions{cfg: &twilio.Config{AccountSID: accountSID, AuthToken: authToken, MessagingServiceSID: service, APIKeySID: keySID, APIKeySecret: "key-secret"}})
	api := newFakeTwilio(t, answer{201, `{"sid":"SM00000000000000000000000000000001","status":"accepted","error_code":null,"error_message":null}`})
	// No public URL: no status callback is asked for.
	s := twilio.NewSender(twilio.SenderOptions{Store: e.st, Box: e.box, APIBase: api.srv.URL})
	e.mustDeliver("webhook", fixture(t, "mms.form"))
	sid, err := s.Send(context.Background(), e.reply(t, "We will check."))
	if err != nil || sid != "SM00000000000000000000000000000001" {
		t.Fatalf("Send = %q, %v", sid, err)
	}
	r := api.last(t)
	if r.user != keySID || r.pass != "key-secret" {
		t.Errorf("basic auth user %q: want the API key", r.user)
	}
	if r.form.Get("MessagingServiceSid") != service || r.form.Has("From") || r.form.Has("StatusCallback") || r.form.Get("To") != "+12125550123" {
		t.Errorf("form %v: want the service, no From, no callback, To the MMS sender", r.form)
	}
}

func TestSendErrors(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), envOptions{})
	tests := []struct {
		name      string
		answer    answer
		permanent bool
		text      string
	}{
		{"invalid number", answer{400, string(fixture(t, "error_21211.json"))}, true, "Twilio error 21211: Invalid 'To' Phone Number: +1415555"},
		{"bad credentials", answer{401, string(fixture(t, "error_20003.json"))}, true, "Twilio error 20003: Authenticate"},
		{"unsubscribed", answer{400, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","more_info":"https://www.twilio.com/docs/errors/21610","status":400}`}, true, "Twilio error 21610: Attempt to send to unsubscribed recipient"},
		{"throttled", answer{429, string(fixture(t, "error_20429.json"))}, false, "Twilio error 20429: Too Many Requests"},
		{"server error", answer{500, `{"code":20500,"message":"Internal Server Error","more_info":"https://www.twilio.com/docs/errors/20500","status":500}`}, false, "Twilio error 20500: Internal Server Error"},
		{"gateway", answer{502, `<html>Bad Gateway</html>`}, false, "Twilio API answered HTTP 502: Bad Gateway"},
		{"unavailable without body", answer{503, ``}, false, "Twilio API answered HTTP 503: Service Unavailable"},
		{"accepted but failed at once", answer{201, `{"sid":"SM1","status":"failed","error_code":30007,"error_message":"Message filtered"}`}, true, "Twilio error 30007: Message filtered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeTwilio(t, tt.answer)
			s := twilio.NewSender(twilio.SenderOptions{Store: e.st, Box: e.box, APIBase: api.srv.URL})
			sid, err := s.Send(context.Background(), e.reply(t, "hello"))
			var se *twilio.SendError
			if err == nil || sid != "" || !errors.As(err, &se) {
				t.Fatalf("Send = %q, %v; want a SendError", sid, err)
			}
			if isPermanent(err) != tt.permanent || err.Error() != tt.text {
				t.Fatalf("permanent %v %q, want %v %q", isPermanent(err), err, tt.permanent, tt.text)
			}
		})
	}
	t.Run("accepted without a sid", func(t *testing.T) {
		api := newFakeTwilio(t, answer{201, `not json`})
		s := twilio.NewSender(twilio.SenderOptions{Store: e.st, Box: e.box, APIBase: api.srv.URL})
		if sid, err := s.Send(context.Background(), e.reply(t, "hello")); sid != "" || err != nil {
			t.Fatalf("Send = %q, %v; want sent without an id (sending again would duplicate it)", sid, err)
		}
	})
	t.Run("network failure", func(t *testing.T) {
		api := newFakeTwilio(t, answer{200, ""})
		api.srv.Close()
		s := twilio.NewSender(twilio.SenderOptions{Store: e.st, Box: e.box, APIBase: api.srv.URL})
		_, err := s.Send(context.Background(), e.reply(t, "hello"))
		if err == nil || isPermanent(err) || strings.Contains(err.Error(), authToken) {
			t.Fatalf("Send: %v, want a retryable error without the token", err)
		}
	})
}

func TestSendRefusals(t *testing.T) {
	st := teststore.SQLite(t)
	e := newEnv(t, st, envOptions{})
	ctx := context.Background()
	api := newFakeTwilio(t, answer{201, string(fixture(t, "message_created.json"))})
	s := twilio.NewSender(twilio.SenderOptions{Store: st, Box: e.box, APIBase: api.srv.URL})

	media := e.reply(t, "x")
	media.Type = store.TypeMedia
	if _, err := s.Send(ctx, media); !isPermanent(err) || !strings.Contains(err.Error(), "cannot send attachments") {
		t.Errorf("media without a media store: %v, want permanent", err)
	}
	note := e.reply(t, "x")
	note.Type = store.TypeTemplate
	if _, err := s.Send(ctx, note); !isPermanent(err) || !strings.Contains(err.Error(), "cannot be sent by SMS") {
		t.Errorf("a template: %v, want permanent", err)
	}
	if _, err := twilio.NewSender(twilio.SenderOptions{Store: st, APIBase: api.srv.URL}).Send(ctx, e.reply(t, "x")); !isPermanent(err) || !strings.Contains(err.Error(), "SWITCHBOARD_SECRET_KEY") {
		t.Errorf("without a key: %v, want permanent naming the key", err)
	}

	// A contact known only by a phone number (added by hand) is texted at
	// it; one with neither an sms identity nor a number cannot be.
	for _, tt := range []struct {
		phone, want string
	}{{"+447700900123", ""}, {"", "no phone number"}, {"07700 900123", "no phone number"}} {
		c, _, err := st.CreateContact(ctx, e.ws.ID, store.NewContact{Name: "By hand", Phone: tt.phone}, nil)
		if err != nil {
			t.Fatal(err)
		}
		conv, _, err := st.CreateConversation(ctx, e.ws.ID, store.NewConversation{InboxID: e.inbox.ID, ContactID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		created, err := st.CreateMessage(ctx, e.ws.ID, store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorSystem, Body: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Send(ctx, created.Message)
		switch {
		case tt.want == "" && (err != nil || api.last(t).form.Get("To") != tt.phone):
			t.Errorf("phone %q: %v, To %q", tt.phone, err, api.last(t).form.Get("To"))
		case tt.want != "" && (!isPermanent(err) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("phone %q: %v, want permanent %q", tt.phone, err, tt.want)
		}
	}
}
