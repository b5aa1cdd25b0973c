package apichannel_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/apichannel"
)

func TestSignKnownVector(t *testing.T) {
	// Computed independently: HMAC-SHA256(secret, "1763900000." + body).
	body := []byte(`{"event":"message.created"}`)
	got := apichannel.Sign(webhookSecret, time.Unix(1763900000, 0), body)
	want := "t=1763900000,v1=4c21d89a843f405d1a75ad7c52fb56e57caaa20b83e218bba4d04519a69ef25b"
	if got != want {
		t.Fatalf("Sign = %s\nwant   %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"event":"message.created","message":{"text":"hi"}}`)
	at := time.Unix(1763900000, 0)
	good := apichannel.Sign(webhookSecret, at, body)
	v1 := good[strings.Index(good, "v1="):]
	tests := []struct {
		name   string
		header string
		body   []byte
		secret string
		now    time.Time
		want   error
	}{
		{"good", good, body, webhookSecret, at, nil},
		{"good, a minute later", good, body, webhookSecret, at.Add(time.Minute), nil},
		{"good, receiver clock a minute behind", good, body, webhookSecret, at.Add(-time.Minute), nil},
		{"spaces after commas", strings.Replace(good, ",", ", ", 1), body, webhookSecret, at, nil},
		{"rotating: one of two v1 matches", good + ",v1=" + strings.Repeat("ab", 32), body, webhookSecret, at, nil},
		{"unknown scheme ignored", good + ",v0=whatever", body, webhookSecret, at, nil},
		{"missing", "", body, webhookSecret, at, apichannel.ErrNoSignature},
		{"blank", "   ", body, webhookSecret, at, apichannel.ErrNoSignature},
		{"no timestamp", v1, body, webhookSecret, at, apichannel.ErrSignatureFormat},
		{"no v1", "t=1763900000", body, webhookSecret, at, apichannel.ErrSignatureFormat},
		{"timestamp not a number", strings.Replace(good, "t=1763900000", "t=soon", 1), body, webhookSecret, at, apichannel.ErrSignatureFormat},
		{"timestamp with a plus", strings.Replace(good, "t=1763900000", "t=+1763900000", 1), body, webhookSecret, at, apichannel.ErrSignatureFormat},
		{"two timestamps", "t=1763900000," + good, body, webhookSecret, at, apichannel.ErrSignatureFormat},
		{"bad hex", "t=1763900000,v1=" + strings.Repeat("zz", 32), body, webhookSecret, at, apichannel.ErrSignatureFormat},
		{"short digest", good[:len(good)-2], body, webhookSecret, at, apichannel.ErrSignatureFormat},
		{"part without =", good + ",junk", body, webhookSecret, at, apichannel.ErrSignatureFormat},
		{"Meta's format", "sha256=" + strings.Repeat("ab", 32), body, webhookSecret, at, apichannel.ErrSignatureFormat},
		{"huge header", good + strings.Repeat(",v0=x", 1000), body, webhookSecret, at, apichannel.ErrSignatureFormat},
		{"wrong secret", apichannel.Sign("another-secret-0123456789abcdef0123", at, body), body, webhookSecret, at, apichannel.ErrSignatureInvalid},
		{"tampered body", good, []byte(`{"event":"message.created","message":{"text":"HI"}}`), webhookSecret, at, apichannel.ErrSignatureInvalid},
		{"tampered timestamp", strings.Replace(good, "t=1763900000", "t=1763900001", 1), body, webhookSecret, at, apichannel.ErrSignatureInvalid},
		{"replayed an hour later", good, body, webhookSecret, at.Add(time.Hour), apichannel.ErrSignatureExpired},
		{"replayed just past the tolerance", good, body, webhookSecret, at.Add(5*time.Minute + time.Second), apichannel.ErrSignatureExpired},
		{"from the future", good, body, webhookSecret, at.Add(-time.Hour), apichannel.ErrSignatureExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := apichannel.VerifySignature(tt.header, tt.body, tt.secret, tt.now, 5*time.Minute)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("VerifySignature = %v, want %v", err, tt.want)
			}
		})
	}
	// No tolerance given: the default applies.
	if err := apichannel.VerifySignature(good, body, webhookSecret, at.Add(apichannel.DefaultSignatureTolerance-time.Second), 0); err != nil {
		t.Errorf("within the default tolerance: %v", err)
	}
	if err := apichannel.VerifySignature(good, body, webhookSecret, at.Add(apichannel.DefaultSignatureTolerance+time.Second), 0); !errors.Is(err, apichannel.ErrSignatureExpired) {
		t.Errorf("past the default tolerance: %v", err)
	}
}

// FuzzVerifySignature feeds the header parser anything: it must never
// panic nor accept a header not made with the secret, and what Sign makes
// always verifies.
func FuzzVerifySignature(f *testing.F) {
	at := time.Unix(1763900000, 0)
	f.Add(apichannel.Sign(webhookSecret, at, []byte("{}")), []byte("{}"))
	f.Add("t=1763900000,v1=00,v1=", []byte(""))
	f.Add("t=-1,v1="+strings.Repeat("0", 64), []byte("x"))
	f.Add("t=99999999999999999999,v1="+strings.Repeat("0", 64), []byte("x"))
	f.Add(",,,=,t=,v1=", []byte(nil))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if err := apichannel.VerifySignature(header, body, webhookSecret, at, time.Minute); err == nil {
			if !strings.Contains(header, apichannel.Sign(webhookSecret, at, body)[len("t=1763900000,"):]) {
				t.Fatalf("accepted %q for %q without the secret's MAC", header, body)
			}
		}
		if err := apichannel.VerifySignature(apichannel.Sign(webhookSecret, at, body), body, webhookSecret, at, time.Minute); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
	})
}
