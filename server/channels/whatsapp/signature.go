package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// SignatureHeader carries Meta's signature of a webhook body.
const SignatureHeader = "X-Hub-Signature-256"

const signaturePrefix = "sha256="

// Signature failures, all answered 401.
var (
	ErrNoSignature      = errors.New("whatsapp: missing " + SignatureHeader)
	ErrSignatureFormat  = errors.New("whatsapp: " + SignatureHeader + " is not sha256=<hex>")
	ErrSignatureInvalid = errors.New("whatsapp: " + SignatureHeader + " does not match the body")
)

// Sign returns the X-Hub-Signature-256 value for body: "sha256=" and the
// hex HMAC-SHA256 of the raw body under the app secret.
func Sign(body []byte, appSecret string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks header against the raw body in constant time.
func Verify(body []byte, header, appSecret string) error {
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
