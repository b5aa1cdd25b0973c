package media

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestCheckDigest(t *testing.T) {
	sum := sha256.Sum256([]byte("hello"))
	hexSum := hex.EncodeToString(sum[:])
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"none given", "", true},
		{"hex", hexSum, true},
		{"upper-case hex", strings.ToUpper(hexSum), true},
		{"base64, as webhooks give it", base64.StdEncoding.EncodeToString(sum[:]), true},
		{"not a digest", "n/a", true},
		{"another hex digest", strings.Repeat("ab", 32), false},
		{"another base64 digest", base64.StdEncoding.EncodeToString(make([]byte, 32)), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := checkDigest(hexSum, tc.want); (err == nil) != tc.ok {
				t.Errorf("checkDigest(%q) = %v, want ok %v", tc.want, err, tc.ok)
			}
		})
	}
}

func TestParseGraphMedia(t *testing.T) {
	tests := []struct {
		name, body string
		size       int64
		ok         bool
	}{
		{"documented", `{"messaging_product":"whatsapp","url":"https://lookaside.example/whatsapp_business/attachments/?mid=1","mime_type":"image/jpeg","sha256":"81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3","file_size":"303833","id":"2621233374848975"}`, 303833, true},
		{"numeric file_size", `{"url":"https://a.example/x","file_size":12}`, 12, true},
		{"no file_size", `{"url":"https://a.example/x"}`, -1, true},
		{"no url", `{"mime_type":"image/jpeg"}`, 0, false},
		{"relative url", `{"url":"/x"}`, 0, false},
		{"file url", `{"url":"file:///etc/passwd"}`, 0, false},
		{"not JSON", `<html>`, 0, false},
		{"bad file_size", `{"url":"https://a.example/x","file_size":"big"}`, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gm, err := parseGraphMedia(strings.NewReader(tc.body))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if tc.ok && gm.size() != tc.size {
				t.Errorf("size = %d, want %d", gm.size(), tc.size)
			}
		})
	}
}

func TestMediaType(t *testing.T) {
	for in, want := range map[string]string{
		"image/jpeg":               "image/jpeg",
		"audio/ogg; codecs=opus":   "audio/ogg",
		"application/octet-stream": "",
		"":                         "",
		"not a type;;":             "",
		"IMAGE/PNG":                "image/png",
	} {
		if got := mediaType(in); got != want {
			t.Errorf("mediaType(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseGraphMedia(f *testing.F) {
	f.Add(`{"messaging_product":"whatsapp","url":"https://a.example/x","mime_type":"image/jpeg","sha256":"ab","file_size":"303833","id":"1"}`)
	f.Add(`{"url":"http://[::1]:80/x","file_size":-5}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		gm, err := parseGraphMedia(strings.NewReader(body))
		if err != nil {
			return
		}
		if !strings.HasPrefix(gm.URL, "http://") && !strings.HasPrefix(gm.URL, "https://") {
			t.Errorf("accepted URL %q", gm.URL)
		}
		if gm.size() < -1 {
			t.Errorf("size %d", gm.size())
		}
	})
}

func FuzzCheckDigest(f *testing.F) {
	f.Add("abc", "SfInY0gHMNbZ1ETH6ncGBW6eE3Xhmt7ibeEQHHUOAhM=")
	f.Add("", strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, content, digest string) {
		sum := sha256.Sum256([]byte(content))
		got := hex.EncodeToString(sum[:])
		// Never a panic; and the content's own digest always matches.
		_ = checkDigest(got, digest)
		if err := checkDigest(got, got); err != nil {
			t.Errorf("own hex digest: %v", err)
		}
		if err := checkDigest(got, base64.StdEncoding.EncodeToString(sum[:])); err != nil {
			t.Errorf("own base64 digest: %v", err)
		}
	})
}
