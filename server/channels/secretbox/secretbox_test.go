package secretbox

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func testKey(t testing.TB, fill byte) *Box {
	t.Helper()
	b, err := New(bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	b := testKey(t, 7)
	for _, plain := range [][]byte{{}, []byte("EAAG-access-token"), bytes.Repeat([]byte("x"), 10000)} {
		sealed, err := b.Seal(plain, "inbox:1")
		if err != nil {
			t.Fatal(err)
		}
		if len(plain) > 4 && bytes.Contains(sealed, plain) {
			t.Fatal("sealed blob contains the plaintext")
		}
		got, err := b.Open(sealed, "inbox:1")
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, %v; want %q", got, err, plain)
		}
	}
	s1, _ := b.Seal([]byte("same"), "o")
	s2, _ := b.Seal([]byte("same"), "o")
	if bytes.Equal(s1, s2) {
		t.Error("two seals of one plaintext are equal: nonce reused")
	}
}

func TestTamperDetection(t *testing.T) {
	b := testKey(t, 7)
	sealed, err := b.Seal([]byte("app-secret"), "inbox:1")
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 1
		return c
	}
	tests := []struct {
		name  string
		box   *Box
		blob  []byte
		owner string
	}{
		{"version byte altered", b, flip(0), "inbox:1"},
		{"nonce altered", b, flip(3), "inbox:1"},
		{"ciphertext altered", b, flip(len(sealed) - 20), "inbox:1"},
		{"tag altered", b, flip(len(sealed) - 1), "inbox:1"},
		{"truncated", b, sealed[:10], "inbox:1"},
		{"empty", b, nil, "inbox:1"},
		{"other owner", b, sealed, "inbox:2"},
		{"other key", testKey(t, 8), sealed, "inbox:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.box.Open(tt.blob, tt.owner); !errors.Is(err, ErrOpen) {
				t.Fatalf("Open = %v, want ErrOpen", err)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, KeySize)
	for _, raw := range []string{
		hex.EncodeToString(key),
		base64.StdEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key),
		"  " + base64.StdEncoding.EncodeToString(key) + "\n",
	} {
		got, err := ParseKey(raw)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseKey(%q) = %x, %v", raw, got, err)
		}
	}
	for _, raw := range []string{"", "short", base64.StdEncoding.EncodeToString(key[:16]), "zz" + hex.EncodeToString(key)[2:] + "!!"} {
		_, err := ParseKey(raw)
		if err == nil {
			t.Errorf("ParseKey(%q) accepted", raw)
			continue
		}
		if len(raw) > 8 && strings.Contains(err.Error(), raw) {
			t.Errorf("ParseKey error repeats the secret: %v", err)
		}
	}
	if _, err := New(key[:31]); err == nil {
		t.Error("New accepted a 31-byte key")
	}
}
