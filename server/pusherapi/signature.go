package pusherapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/hub"
)

// MaxClockSkew is how far auth_timestamp may lie from the server's clock,
// either way. Pusher documents ±600 seconds; a request signed further away is
// refused so a captured URL cannot be replayed indefinitely.
const MaxClockSkew = 600 * time.Second

// AuthVersion is the only auth_version Pusher has ever defined.
const AuthVersion = "1.0"

// The reasons Verify refuses a request. Each is wrapped with detail; every
// one of them means the request is not authenticated (HTTP 401).
var (
	// ErrMalformedQuery is returned when the query string cannot be decoded or
	// names a parameter twice.
	ErrMalformedQuery = errors.New("malformed query string")
	// ErrMissingAuthParam is returned when auth_key, auth_timestamp,
	// auth_version or auth_signature is absent.
	ErrMissingAuthParam = errors.New("missing auth parameter")
	// ErrWrongKey is returned when auth_key is not the app's key.
	ErrWrongKey = errors.New("auth_key does not belong to this app")
	// ErrAuthVersion is returned when auth_version is not 1.0.
	ErrAuthVersion = errors.New("unsupported auth_version")
	// ErrTimestamp is returned when auth_timestamp is not an integer or lies
	// more than MaxClockSkew from now.
	ErrTimestamp = errors.New("auth_timestamp outside the allowed window")
	// ErrBodyMD5 is returned when a non-empty body comes without body_md5, or
	// body_md5 is not the body's MD5.
	ErrBodyMD5 = errors.New("body_md5 missing or wrong")
	// ErrSignature is returned when auth_signature is not the expected HMAC.
	ErrSignature = errors.New("invalid auth_signature")
)

// Verify checks that r carries a valid Pusher HTTP API signature for app at
// time now. body is the request body already read from r (r.Body is not
// touched). It returns nil or an error wrapping one of the Err* values above;
// any error means the caller should answer 401.
//
// The signed string is "{METHOD}\n{path}\n{query}" where query holds every
// parameter except auth_signature, keys lower-cased, sorted by key, joined as
// k=v with &, values decoded and not re-escaped — as Pusher's HTTP API
// reference specifies and every official server library produces.
func Verify(r *http.Request, body []byte, app *hub.App, now time.Time) error {
	params, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	for _, k := range [...]string{"auth_key", "auth_timestamp", "auth_version", "auth_signature"} {
		if _, ok := params[k]; !ok {
			return fmt.Errorf("%w: %s", ErrMissingAuthParam, k)
		}
	}
	// The key is public, so a plain comparison leaks nothing.
	if params["auth_key"] != app.Key {
		return ErrWrongKey
	}
	if v := params["auth_version"]; v != AuthVersion {
		return fmt.Errorf("%w: %q, want %s", ErrAuthVersion, v, AuthVersion)
	}
	ts, err := strconv.ParseInt(params["auth_timestamp"], 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not unix seconds", ErrTimestamp, params["auth_timestamp"])
	}
	// Compare against the bounds rather than subtracting, so an extreme
	// timestamp cannot overflow into the window.
	skew := int64(MaxClockSkew / time.Second)
	if nowSec := now.Unix(); ts < nowSec-skew || ts > nowSec+skew {
		return fmt.Errorf("%w: %d is more than %d s from server time %d", ErrTimestamp, ts, skew, nowSec)
	}
	if err := checkBodyMD5(params, body); err != nil {
		return err
	}

	toSign := stringToSign(r.Method, r.URL.Path, params)
	got, err := hex.DecodeString(params["auth_signature"])
	if err != nil {
		return fmt.Errorf("%w: not hex", ErrSignature)
	}
	mac := hmac.New(sha256.New, []byte(app.Secret))
	mac.Write([]byte(toSign))
	if !hmac.Equal(got, mac.Sum(nil)) {
		// Pusher names the string it expected signed: it holds nothing
		// secret and is what a library author needs to find the bug.
		return fmt.Errorf("%w: expected HMAC-SHA256 hex digest of %q", ErrSignature, toSign)
	}
	return nil
}

// checkBodyMD5 requires body_md5 for a non-empty body and, whenever it is
// present, that it matches: the signature covers body_md5, so this is what
// binds the body to the signature.
func checkBodyMD5(params map[string]string, body []byte) error {
	want, present := params["body_md5"]
	if !present {
		if len(body) > 0 {
			return fmt.Errorf("%w: required for a non-empty body", ErrBodyMD5)
		}
		return nil
	}
	wantSum, err := hex.DecodeString(want)
	if err != nil {
		return fmt.Errorf("%w: not hex", ErrBodyMD5)
	}
	sum := md5.Sum(body)
	if !bytes.Equal(wantSum, sum[:]) {
		return fmt.Errorf("%w: does not match the body", ErrBodyMD5)
	}
	return nil
}

// SignedQuery returns the query parameters that sign a request to the
// Pusher HTTP API the way Pusher's server SDKs do: auth_key,
// auth_timestamp, auth_version, body_md5 for a non-empty body, and
// auth_signature over stringToSign. Clients of any Pusher-compatible
// server (switchboard bench) use it; Verify accepts what it produces.
func SignedQuery(method, path, key, secret string, body []byte, now time.Time) url.Values {
	params := map[string]string{
		"auth_key":       key,
		"auth_timestamp": strconv.FormatInt(now.Unix(), 10),
		"auth_version":   AuthVersion,
	}
	if len(body) > 0 {
		sum := md5.Sum(body)
		params["body_md5"] = hex.EncodeToString(sum[:])
	}
	q := make(url.Values, len(params)+1)
	for k, v := range params {
		q.Set(k, v)
	}
	q.Set("auth_signature", hub.Sign(secret, stringToSign(method, path, params)))
	return q
}

// stringToSign builds the string Pusher's HTTP API signs.
func stringToSign(method, path string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "auth_signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(path)
	b.WriteByte('\n')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
	}
	return b.String()
}

// parseQuery decodes a raw query into lower-cased keys and decoded values.
// It splits on '&' only: url.ParseQuery rejects ';', which channel names (and
// so filter_by_prefix) may legally contain. A key given twice is refused
// because the signature would not say which value was meant.
func parseQuery(raw string) (map[string]string, error) {
	params := make(map[string]string)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedQuery, err)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedQuery, err)
		}
		key = strings.ToLower(key)
		if _, dup := params[key]; dup {
			return nil, fmt.Errorf("%w: parameter %q given twice", ErrMalformedQuery, key)
		}
		params[key] = val
	}
	return params, nil
}
