package connector

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
)

// MetaSignatureHeader carries Meta's signature of a Graph webhook body
// (WhatsApp, Messenger, Instagram).
const MetaSignatureHeader = "X-Hub-Signature-256"

const signaturePrefix = "sha256="

// Signature failures, all answered 401.
var (
	ErrNoSignature      = errors.New("missing " + MetaSignatureHeader)
	ErrSignatureFormat  = errors.New(MetaSignatureHeader + " is not sha256=<hex>")
	ErrSignatureInvalid = errors.New(MetaSignatureHeader + " does not match the body")
)

// MetaSign returns the X-Hub-Signature-256 value for body: "sha256=" and the
// hex HMAC-SHA256 of the raw body under the app secret.
func MetaSign(body []byte, appSecret string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// MetaVerify checks header against the raw body in constant time.
func MetaVerify(body []byte, header, appSecret string) error {
	if header == "" {
		return ErrNoSignature
	}
	digest, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return ErrSignatureFormat
	}
	got, err := hex.DecodeString(digest)
	if err != nil || len(got) != sha256.Size {
		return ErrSignatureFormat
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrSignatureInvalid
	}
	return nil
}

// MetaChallenge answers Meta's webhook subscription check (GET with
// hub.mode=subscribe, hub.verify_token and hub.challenge): the challenge
// back when the token is the inbox's, compared in constant time, else 403.
// It reports whether the check passed.
func MetaChallenge(w http.ResponseWriter, r *http.Request, verifyToken string) bool {
	q := r.URL.Query()
	token := q.Get("hub.verify_token")
	if q.Get("hub.mode") != "subscribe" || verifyToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(verifyToken)) != 1 {
		WriteError(w, http.StatusForbidden, "forbidden", "verification failed")
		return false
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, q.Get("hub.challenge"))
	return true
}
