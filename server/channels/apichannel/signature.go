package apichannel

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the signature of a webhook Switchboard sends:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(webhook_secret, "<t>.<raw body>")>".
const SignatureHeader = "X-Switchboard-Signature"

// IdempotencyKeyHeader carries a key that is the same on every attempt to
// deliver one message, so a receiver can drop the duplicate an
// at-least-once delivery may bring.
const IdempotencyKeyHeader = "Idempotency-Key"

// DefaultSignatureTolerance is how far a signature's timestamp may be from
// the receiver's clock when VerifySignature is given no tolerance.
const DefaultSignatureTolerance = 5 * time.Minute

// maxSignatureHeader bounds the header VerifySignature parses.
const maxSignatureHeader = 4096

// Signature failures; a receiver answers each with 401 and drops the
// request.
var (
	// ErrNoSignature: the header is missing or empty.
	ErrNoSignature = errors.New("missing " + SignatureHeader)
	// ErrSignatureFormat: the header is not t=<unix seconds>,v1=<hex>.
	ErrSignatureFormat = errors.New(SignatureHeader + " is not t=<unix seconds>,v1=<hex>")
	// ErrSignatureInvalid: no v1 matches the timestamp and body under the
	// secret.
	ErrSignatureInvalid = errors.New(SignatureHeader + " does not match the body")
	// ErrSignatureExpired: the timestamp is further from now than the
	// tolerance, as a replayed request's is.
	ErrSignatureExpired = errors.New(SignatureHeader + " timestamp is outside the tolerance (replayed or clock skew)")
)

// Sign returns the X-Switchboard-Signature value of body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// VerifySignature checks an X-Switchboard-Signature header against the raw
// body a receiver got: one of its v1 values (several may be given while a
// secret is rotated) must be the HMAC of "<t>.<body>" under secret, and t
// must be within tolerance of now either way, so that a captured request
// cannot be replayed later. A tolerance of zero or less means
// DefaultSignatureTolerance. The comparison is constant time.
func VerifySignature(header string, body []byte, secret string, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultSignatureTolerance
	}
	sig, err := parseSignature(header)
	if err != nil {
		return err
	}
	want := mac(secret, sig.timestamp, body)
	ok := false
	for _, v := range sig.v1 {
		if hmac.Equal(v, want) {
			ok = true
		}
	}
	if !ok {
		return ErrSignatureInvalid
	}
	// Checked after the MAC, so that a timestamp is only judged once it
	// is known to be the signer's.
	if age := now.Sub(time.Unix(sig.unix, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: signed at %s, %s from now", ErrSignatureExpired, time.Unix(sig.unix, 0).UTC().Format(time.RFC3339), age.Round(time.Second))
	}
	return nil
}

type signature struct {
	timestamp string // as signed
	unix      int64
	v1        [][]byte
}

// parseSignature splits "t=…,v1=…[,v1=…]"; other schemes (v0, a future
// v2) are skipped, as a newer sender may add them.
func parseSignature(header string) (signature, error) {
	var s signature
	header = strings.TrimSpace(header)
	if header == "" {
		return s, ErrNoSignature
	}
	if len(header) > maxSignatureHeader {
		return s, ErrSignatureFormat
	}
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return signature{}, ErrSignatureFormat
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 || s.timestamp != "" || strconv.FormatInt(n, 10) != v {
				return signature{}, ErrSignatureFormat
			}
			s.timestamp, s.unix = v, n
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return signature{}, ErrSignatureFormat
			}
			s.v1 = append(s.v1, b)
		}
	}
	if s.timestamp == "" || len(s.v1) == 0 {
		return signature{}, ErrSignatureFormat
	}
	return s, nil
}
