// Package secretbox seals provider credentials (WhatsApp access tokens, app
// secrets, ...) before they reach the store, with AES-256-GCM under the
// server's SWITCHBOARD_SECRET_KEY. The store only ever sees sealed blobs;
// the connectors open them when they need a secret.
//
// A sealed blob is a version byte, a random 12-byte nonce and the GCM
// ciphertext with its tag. The additional data binds a blob to what it
// seals (for example "inbox:42"), so a blob copied onto another row does
// not open there.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a key: AES-256.
const KeySize = 32

// version is the first byte of every sealed blob, so the format can change
// without guessing.
const version byte = 1

// ErrOpen is returned when a blob does not open: it was sealed under
// another key or for other additional data, or it was altered.
var ErrOpen = errors.New("secretbox: cannot open: wrong key, wrong owner or tampered")

// Box seals and opens blobs under one key.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a KeySize-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secretbox: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead}, nil
}

// ParseKey decodes a key written as 64 hex digits or as base64 (standard
// or URL alphabet, padded or not) of KeySize bytes. Its errors never
// repeat the value, which is a secret.
func ParseKey(raw string) ([]byte, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) == 2*KeySize {
		if key, err := hex.DecodeString(raw); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		key, err := enc.DecodeString(raw)
		if err != nil {
			continue
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("want %d bytes, got %d after base64 decoding (generate one with: openssl rand -base64 32)", KeySize, len(key))
		}
		return key, nil
	}
	return nil, fmt.Errorf("want %d bytes as 64 hex digits or base64, got %d characters that are neither (generate one with: openssl rand -base64 32)", KeySize, len(raw))
}

// Seal encrypts plaintext for owner (the additional data Open must be
// given).
func (b *Box) Seal(plaintext []byte, owner string) ([]byte, error) {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("secretbox: nonce: %w", err)
	}
	return b.aead.Seal(out, out[1:], plaintext, []byte(owner)), nil
}

// Open decrypts a blob sealed for owner, or returns ErrOpen.
func (b *Box) Open(sealed []byte, owner string) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(owner))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
