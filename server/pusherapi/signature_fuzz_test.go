package pusherapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzVerify checks three properties of Verify on arbitrary input:
//   - it never panics, whatever the query, path, method or body;
//   - a request signed correctly by a Pusher-style client (values escaped in
//     the URL, signed unescaped) is accepted exactly when its timestamp is
//     within MaxClockSkew;
//   - changing the body, method or path of a signed request, or presenting
//     an arbitrary query that was never signed, is refused.
func FuzzVerify(f *testing.F) {
	body := []byte(`{"name":"e","channel":"c","data":"x"}`)
	f.Add("POST", "/apps/1001/events", "info", "user_count", body, int64(0), "auth_key=key-1001&auth_signature=00")
	f.Add("GET", "/apps/1001/channels", "filter_by_prefix", "presence-", []byte(nil), int64(600), "")
	f.Add("GET", "/apps/1001/channels/a;b", "FILTER_BY_PREFIX", "a;b=c&d e+f%", []byte(nil), int64(-601), "a=%zz")
	f.Add("POST", "/apps/1001/users/7/terminate_connections", "x", "", []byte("{}"), int64(601), "&&=&")
	f.Add("PUT", "/", "", "", []byte("\x00\xff"), int64(-1<<62), "auth_key=key-1001&auth_timestamp=1700000000&auth_version=1.0&auth_signature=")
	f.Add("POST", "/apps/1001/events", "Auth_Key", "evil", body, int64(1), "auth_key=key-1001&AUTH_KEY=key-1001")

	f.Fuzz(func(t *testing.T, method, path, key, val string, body []byte, offset int64, rawQuery string) {
		app := appOn
		now := fixedNow

		// Arbitrary unsigned input: must not panic and must not verify.
		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: rawQuery}}
		if err := Verify(r, body, &app, now); err == nil {
			t.Fatalf("unsigned query %q verified", rawQuery)
		}

		// A correctly signed request, with one extra parameter.
		lk := strings.ToLower(key)
		if method == "" || lk == "" || strings.HasPrefix(lk, "auth_") || lk == "body_md5" {
			return
		}
		offset %= 1 << 40 // keep now+offset representable
		ts := time.Unix(now.Unix()+offset, 0)
		params := authParams(app, ts, body)
		params.Set(key, val)
		sign(method, path, params, app.Secret)
		r = &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: params.Encode()}}

		err := Verify(r, body, &app, now)
		inWindow := offset >= -600 && offset <= 600
		switch {
		case inWindow && err != nil:
			t.Fatalf("signed request (offset %d s) refused: %v", offset, err)
		case !inWindow && !errors.Is(err, ErrTimestamp):
			t.Fatalf("signed request (offset %d s) gave %v, want ErrTimestamp", offset, err)
		case !inWindow:
			return
		}

		if err := Verify(r, append(bytes.Clone(body), 'x'), &app, now); !errors.Is(err, ErrBodyMD5) {
			t.Fatalf("changed body gave %v, want ErrBodyMD5", err)
		}
		tampered := *r
		tampered.Method = method + "X"
		if err := Verify(&tampered, body, &app, now); !errors.Is(err, ErrSignature) {
			t.Fatalf("changed method gave %v, want ErrSignature", err)
		}
		tampered = *r
		tampered.URL = &url.URL{Path: path + "/x", RawQuery: r.URL.RawQuery}
		if err := Verify(&tampered, body, &app, now); !errors.Is(err, ErrSignature) {
			t.Fatalf("changed path gave %v, want ErrSignature", err)
		}
	})
}
