package pusherapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"

	"github.com/switchboard-inbox/switchboard/hub"
)

// fixedNow is the clock for hand-signed signature tests.
var fixedNow = time.Unix(1_700_000_000, 0)

func TestVerify(t *testing.T) {
	body := []byte(`{"name":"e","channel":"c","data":"x"}`)
	const path = "/apps/1001/events"

	// signed builds a POST signed for appOn at fixedNow+offset, after edit
	// has changed the unsigned parameters.
	signed := func(offset time.Duration, body []byte, edit func(url.Values)) (*http.Request, []byte) {
		p := authParams(appOn, fixedNow.Add(offset), body)
		if edit != nil {
			edit(p)
		}
		sign("POST", path, p, appOn.Secret)
		return httptest.NewRequest("POST", path+"?"+p.Encode(), nil), body
	}
	// after changes a signed request's query, as a tamperer would.
	after := func(r *http.Request, edit func(url.Values)) *http.Request {
		q := r.URL.Query()
		edit(q)
		r.URL.RawQuery = q.Encode()
		return r
	}

	tests := []struct {
		name    string
		req     func() (*http.Request, []byte)
		app     hub.App
		wantErr error // nil means accepted
	}{
		{name: "good", req: func() (*http.Request, []byte) { return signed(0, body, nil) }},
		{name: "good GET without body", req: func() (*http.Request, []byte) {
			p := authParams(appOn, fixedNow, nil)
			p.Set("filter_by_prefix", "presence-")
			p.Set("info", "user_count")
			sign("GET", "/apps/1001/channels", p, appOn.Secret)
			return httptest.NewRequest("GET", "/apps/1001/channels?"+p.Encode(), nil), nil
		}},
		{name: "keys are lower-cased before sorting", req: func() (*http.Request, []byte) {
			return signed(0, body, func(p url.Values) { p.Set("Zeta", "1"); p.Set("ALPHA", "Something else") })
		}},
		{name: "values are signed unescaped", req: func() (*http.Request, []byte) {
			return signed(0, body, func(p url.Values) { p.Set("filter_by_prefix", "a;b=c&d e") })
		}},
		{name: "oldest allowed timestamp", req: func() (*http.Request, []byte) { return signed(-600*time.Second, body, nil) }},
		{name: "newest allowed timestamp", req: func() (*http.Request, []byte) { return signed(600*time.Second, body, nil) }},
		{name: "body_md5 of an empty body", req: func() (*http.Request, []byte) {
			return signed(0, nil, func(p url.Values) { p.Set("body_md5", "d41d8cd98f00b204e9800998ecf8427e") })
		}},

		{name: "wrong secret", app: hub.App{ID: appOn.ID, Key: appOn.Key, Secret: "some-other-secret"},
			req: func() (*http.Request, []byte) { return signed(0, body, nil) }, wantErr: ErrSignature},
		{name: "wrong auth_key", wantErr: ErrWrongKey, req: func() (*http.Request, []byte) {
			return signed(0, body, func(p url.Values) { p.Set("auth_key", appOff.Key) })
		}},
		{name: "missing auth_key", wantErr: ErrMissingAuthParam, req: func() (*http.Request, []byte) {
			return signed(0, body, func(p url.Values) { p.Del("auth_key") })
		}},
		{name: "missing auth_timestamp", wantErr: ErrMissingAuthParam, req: func() (*http.Request, []byte) {
			return signed(0, body, func(p url.Values) { p.Del("auth_timestamp") })
		}},
		{name: "missing auth_version", wantErr: ErrMissingAuthParam, req: func() (*http.Request, []byte) {
			return signed(0, body, func(p url.Values) { p.Del("auth_version") })
		}},
		{name: "missing auth_signature", wantErr: ErrMissingAuthParam, req: func() (*http.Request, []byte) {
			r, b := signed(0, body, nil)
			return after(r, func(q url.Values) { q.Del("auth_signature") }), b
		}},
		{name: "empty auth_signature", wantErr: ErrSignature, req: func() (*http.Request, []byte) {
			r, b := signed(0, body, nil)
			return after(r, func(q url.Values) { q.Set("auth_signature", "") }), b
		}},
		{name: "auth_signature not hex", wantErr: ErrSignature, req: func() (*http.Request, []byte) {
			r, b := signed(0, body, nil)
			return after(r, func(q url.Values) { q.Set("auth_signature", "zz") }), b
		}},
		{name: "auth_version 2.0", wantErr: ErrAuthVersion, req: func() (*http.Request, []byte) {
			return signed(0, body, func(p url.Values) { p.Set("auth_version", "2.0") })
		}},
		{name: "expired by 601 s", wantErr: ErrTimestamp, req: func() (*http.Request, []byte) {
			return signed(-601*time.Second, body, nil)
		}},
		{name: "601 s in the future", wantErr: ErrTimestamp, req: func() (*http.Request, []byte) {
			return signed(601*time.Second, body, nil)
		}},
		{name: "timestamp in milliseconds", wantErr: ErrTimestamp, req: func() (*http.Request, []byte) {
			return signed(0, body, func(p url.Values) { p.Set("auth_timestamp", strconv.FormatInt(fixedNow.UnixMilli(), 10)) })
		}},
		{name: "timestamp not a number", wantErr: ErrTimestamp, req: func() (*http.Request, []byte) {
			return signed(0, body, func(p url.Values) { p.Set("auth_timestamp", "yesterday") })
		}},
		{name: "extreme timestamp", wantErr: ErrTimestamp, req: func() (*http.Request, []byte) {
			return signed(0, body, func(p url.Values) { p.Set("auth_timestamp", "-9223372036854775808") })
		}},
		{name: "missing body_md5 with a body", wantErr: ErrBodyMD5, req: func() (*http.Request, []byte) {
			return signed(0, body, func(p url.Values) { p.Del("body_md5") })
		}},
		{name: "body_md5 of another body", wantErr: ErrBodyMD5, req: func() (*http.Request, []byte) {
			r, _ := signed(0, body, nil)
			return r, []byte(`{"name":"evil","channel":"c","data":"x"}`)
		}},
		{name: "body_md5 not hex", wantErr: ErrBodyMD5, req: func() (*http.Request, []byte) {
			return signed(0, body, func(p url.Values) { p.Set("body_md5", "not-hex") })
		}},
		{name: "tampered parameter", wantErr: ErrSignature, req: func() (*http.Request, []byte) {
			r, b := signed(0, body, func(p url.Values) { p.Set("info", "user_count") })
			return after(r, func(q url.Values) { q.Set("info", "subscription_count") }), b
		}},
		{name: "added parameter", wantErr: ErrSignature, req: func() (*http.Request, []byte) {
			r, b := signed(0, body, nil)
			return after(r, func(q url.Values) { q.Set("info", "user_count") }), b
		}},
		{name: "tampered path", wantErr: ErrSignature, req: func() (*http.Request, []byte) {
			r, b := signed(0, body, nil)
			r.URL.Path = "/apps/1001/batch_events"
			return r, b
		}},
		{name: "tampered method", wantErr: ErrSignature, req: func() (*http.Request, []byte) {
			r, b := signed(0, body, nil)
			r.Method = "PUT"
			return r, b
		}},
		{name: "parameter given twice", wantErr: ErrMalformedQuery, req: func() (*http.Request, []byte) {
			r, b := signed(0, body, nil)
			r.URL.RawQuery += "&AUTH_KEY=" + appOn.Key
			return r, b
		}},
		{name: "bad escape", wantErr: ErrMalformedQuery, req: func() (*http.Request, []byte) {
			r, b := signed(0, body, nil)
			r.URL.RawQuery += "&x=%zz"
			return r, b
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := tc.app
			if app.ID == "" {
				app = appOn
			}
			r, b := tc.req()
			err := Verify(r, b, &app, fixedNow)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v, want accepted", err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify: %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestVerifyPusherWorkedExample checks the worked example in Pusher's HTTP
// API reference, byte for byte.
func TestVerifyPusherWorkedExample(t *testing.T) {
	app := hub.App{ID: "3", Key: "278d425bdf160c739803", Secret: "7ad3773142a6692b25b8", Enabled: true}
	body := []byte(`{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}`)
	target := "/apps/3/events?auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0" +
		"&body_md5=ec365a775a4cd0599faeb73354201b6f" +
		"&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
	r := httptest.NewRequest("POST", target, bytes.NewReader(body))
	if err := Verify(r, body, &app, time.Unix(1353088179, 0)); err != nil {
		t.Fatalf("Verify(worked example): %v", err)
	}
	// The example is from 2012: today it is a replay.
	if err := Verify(r, body, &app, time.Unix(1353088179+601, 0)); !errors.Is(err, ErrTimestamp) {
		t.Fatalf("Verify(worked example, 601 s later): %v, want ErrTimestamp", err)
	}
}

// captured is one request pusher-http-go sent.
type captured struct {
	method, target string
	body           []byte
}

// request rebuilds the captured request for Verify.
func (c captured) request() *http.Request {
	return httptest.NewRequest(c.method, c.target, bytes.NewReader(c.body))
}

// capture runs call with a pusher-http-go client for appOn aimed at a server
// that records the request and answers {}.
func capture(t testing.TB, call func(*pusher.Client) error) captured {
	t.Helper()
	var (
		mu  sync.Mutex
		got []captured
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, captured{method: r.Method, target: r.URL.RequestURI(), body: b})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := &pusher.Client{AppID: appOn.ID, Key: appOn.Key, Secret: appOn.Secret, Host: u.Host}
	if err := call(c); err != nil {
		t.Fatalf("pusher-http-go: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("pusher-http-go sent %d requests, want 1", len(got))
	}
	return got[0]
}

func TestVerifyAcceptsPusherHTTPGo(t *testing.T) {
	str := func(s string) *string { return &s }
	calls := []struct {
		name string
		call func(*pusher.Client) error
	}{
		{"Trigger", func(c *pusher.Client) error { return c.Trigger("my-channel", "my-event", map[string]string{"a": "b"}) }},
		{"TriggerMulti", func(c *pusher.Client) error {
			return c.TriggerMulti([]string{"a", "private-b", "presence-c"}, "e", "data")
		}},
		{"TriggerExclusive", func(c *pusher.Client) error { return c.TriggerExclusive("a", "e", "data", "123.456") }},
		{"TriggerWithParams", func(c *pusher.Client) error {
			_, err := c.TriggerWithParams("presence-a", "e", "d", pusher.TriggerParams{Info: str("user_count,subscription_count")})
			return err
		}},
		{"TriggerBatch", func(c *pusher.Client) error {
			_, err := c.TriggerBatch([]pusher.Event{{Channel: "a", Name: "e", Data: "1"}, {Channel: "b", Name: "e", Data: "2", Info: str("subscription_count")}})
			return err
		}},
		{"Channels", func(c *pusher.Client) error {
			_, err := c.Channels(pusher.ChannelsParams{FilterByPrefix: str("presence-"), Info: str("user_count")})
			return err
		}},
		{"Channel", func(c *pusher.Client) error {
			_, err := c.Channel("presence-a", pusher.ChannelParams{Info: str("user_count,subscription_count")})
			return err
		}},
		{"GetChannelUsers", func(c *pusher.Client) error { _, err := c.GetChannelUsers("presence-a"); return err }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			req := capture(t, tc.call)
			now := time.Now()
			if err := Verify(req.request(), req.body, &appOn, now); err != nil {
				t.Fatalf("Verify(%s %s): %v", req.method, req.target, err)
			}
			other := appOn
			other.Secret = "another-secret"
			if err := Verify(req.request(), req.body, &other, now); !errors.Is(err, ErrSignature) {
				t.Errorf("Verify with the wrong secret: %v, want ErrSignature", err)
			}
			// Replayed after the window closes, the same request is refused.
			if err := Verify(req.request(), req.body, &appOn, now.Add(MaxClockSkew+2*time.Second)); !errors.Is(err, ErrTimestamp) {
				t.Errorf("Verify replayed %v later: %v, want ErrTimestamp", MaxClockSkew+2*time.Second, err)
			}
		})
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		raw     string
		want    map[string]string
		wantErr bool
	}{
		{raw: "", want: map[string]string{}},
		{raw: "a=1&B=2", want: map[string]string{"a": "1", "b": "2"}},
		{raw: "a=x%20y+z", want: map[string]string{"a": "x y z"}},
		{raw: "p=a;b", want: map[string]string{"p": "a;b"}},
		{raw: "flag&&x=", want: map[string]string{"flag": "", "x": ""}},
		{raw: "a=1&A=2", wantErr: true},
		{raw: "a=%", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := parseQuery(tc.raw)
			if tc.wantErr {
				if !errors.Is(err, ErrMalformedQuery) {
					t.Fatalf("parseQuery(%q) error %v, want ErrMalformedQuery", tc.raw, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseQuery(%q): %v", tc.raw, err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("parseQuery(%q) = %v, want %v", tc.raw, got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("parseQuery(%q)[%q] = %q, want %q", tc.raw, k, got[k], v)
				}
			}
		})
	}
}

// TestSignedQueryVerifies: what SignedQuery produces, Verify accepts, for
// the same method, path and body only.
func TestSignedQueryVerifies(t *testing.T) {
	app := &hub.App{ID: "1", Key: "key", Secret: "a-long-secret", Enabled: true}
	now := time.Unix(1700000000, 0)
	body := []byte(`{"name":"e","channels":["c"],"data":"x"}`)
	req := func(method, path string) *http.Request {
		q := SignedQuery(http.MethodPost, "/apps/1/events", app.Key, app.Secret, body, now)
		return httptest.NewRequest(method, path+"?"+q.Encode(), nil)
	}
	if err := Verify(req(http.MethodPost, "/apps/1/events"), body, app, now); err != nil {
		t.Fatalf("Verify rejects SignedQuery's own signature: %v", err)
	}
	if err := Verify(req(http.MethodPost, "/apps/1/events"), []byte(`{}`), app, now); err == nil {
		t.Error("Verify accepted another body")
	}
	if err := Verify(req(http.MethodPut, "/apps/1/events"), body, app, now); err == nil {
		t.Error("Verify accepted another method")
	}
	if err := Verify(req(http.MethodPost, "/apps/2/events"), body, app, now); err == nil {
		t.Error("Verify accepted another path")
	}
}
