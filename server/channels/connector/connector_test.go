package connector

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncateUTF8(t *testing.T) {
	s := strings.Repeat("é", 10) // 20 bytes
	for n := 0; n <= 22; n++ {
		got := TruncateUTF8(s, n)
		if len(got) > n || !utf8.ValidString(got) {
			t.Errorf("TruncateUTF8(%d) = %q", n, got)
		}
	}
}

func TestMetaSignature(t *testing.T) {
	body := []byte(`{"object":"page"}`)
	good := MetaSign(body, "s3cret")
	cases := []struct {
		name, header, secret string
		want                 error
	}{
		{"good", good, "s3cret", nil},
		{"missing", "", "s3cret", ErrNoSignature},
		{"no prefix", strings.TrimPrefix(good, "sha256="), "s3cret", ErrSignatureFormat},
		{"sha1", "sha1=" + strings.TrimPrefix(good, "sha256=")[:40], "s3cret", ErrSignatureFormat},
		{"not hex", "sha256=" + strings.Repeat("zz", 32), "s3cret", ErrSignatureFormat},
		{"short", good[:20], "s3cret", ErrSignatureFormat},
		{"wrong secret", good, "other", ErrSignatureInvalid},
	}
	for _, c := range cases {
		if err := MetaVerify(body, c.header, c.secret); err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if err := MetaVerify([]byte(`{"object":"page "}`), good, "s3cret"); err != ErrSignatureInvalid {
		t.Errorf("tampered body: %v", err)
	}
}

func TestOptOutKeyword(t *testing.T) {
	tests := []struct {
		text    string
		ok      bool
		optOut  bool
		keyword string
	}{
		{"STOP", true, true, "STOP"},
		{"stop", true, true, "STOP"},
		{"  Stop. ", true, true, "STOP"},
		{"STOP!!!", true, true, "STOP"},
		{"Unsubscribe", true, true, "UNSUBSCRIBE"},
		{"opt out", true, true, "OPT OUT"},
		{"Baja", true, true, "BAJA"},
		{"arrêt", true, true, "ARRÊT"},
		{"Stopp", true, true, "STOPP"},
		{"START", true, false, "START"},
		{"start.", true, false, "START"},
		{"unstop", true, false, "UNSTOP"},
		{"please stop calling me", false, false, ""},
		{"stop the order", false, false, ""},
		{"yes", false, false, ""},
		{"", false, false, ""},
		{"STOPSTOPSTOPSTOPSTOP", false, false, ""},
		{"¿Stop?", true, true, "STOP"},
	}
	for _, tc := range tests {
		optOut, k, ok := OptOutKeyword(tc.text)
		if ok != tc.ok || optOut != tc.optOut || k != tc.keyword {
			t.Errorf("OptOutKeyword(%q) = %v %q %v, want %v %q %v", tc.text, optOut, k, ok, tc.optOut, tc.keyword, tc.ok)
		}
	}
}
