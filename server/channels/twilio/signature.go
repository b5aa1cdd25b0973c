package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// SignatureHeader carries Twilio's signature of a webhook request.
const SignatureHeader = "X-Twilio-Signature"

// Signature failures, all answered 401.
var (
	ErrNoSignature      = errors.New("missing " + SignatureHeader)
	ErrSignatureFormat  = errors.New(SignatureHeader + " is not a base64 HMAC-SHA1")
	ErrSignatureInvalid = errors.New(SignatureHeader + " does not match the request")
)

// Sign returns the X-Twilio-Signature of a POST to fullURL with params, as
// Twilio documents it: the base64 HMAC-SHA1, under the auth token, of the
// full URL Twilio requested followed by every POST parameter's name and
// value, in name order (a name given twice, in value order), with no
// separators.
func Sign(authToken, fullURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values := slices.Clone(params[name])
		slices.Sort(values)
		for _, v := range values {
			mac.Write([]byte(name))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify checks header against the request Twilio made to fullURL with
// params, in constant time. Like Twilio's own libraries it also accepts
// the URL with its default port added or removed (https://host:443/…),
// since proxies and Twilio disagree on whether it is part of the URL.
func Verify(authToken, fullURL string, params url.Values, header string) error {
	if header == "" {
		return ErrNoSignature
	}
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil || len(got) != sha1.Size {
		return ErrSignatureFormat
	}
	for _, u := range urlVariants(fullURL) {
		want, _ := base64.StdEncoding.DecodeString(Sign(authToken, u, params))
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignatureInvalid
}

// urlVariants returns raw and raw with its scheme's default port toggled.
func urlVariants(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return []string{raw}
	}
	def := map[string]string{"http": "80", "https": "443"}[u.Scheme]
	if def == "" {
		return []string{raw}
	}
	other := *u
	if host, port, err := net.SplitHostPort(u.Host); err == nil {
		if port != def {
			return []string{raw}
		}
		other.Host = host
		if strings.Contains(host, ":") {
			other.Host = "[" + host + "]"
		}
	} else {
		other.Host = net.JoinHostPort(strings.Trim(u.Host, "[]"), def)
	}
	return []string{raw, other.String()}
}

// requestURL is the full URL Twilio requested: publicURL (the server's
// SWITCHBOARD_PUBLIC_URL) followed by the request's path and query as
// received, or, without a public URL, rebuilt from the request's Host and
// TLS state, and from X-Forwarded-Proto and X-Forwarded-Host when
// trustProxy.
func requestURL(r *http.Request, publicURL string, trustProxy bool) string {
	// The path and query as sent (EscapedPath keeps the request's own
	// escaping), also when the request line was in absolute form.
	uri := r.URL.RequestURI()
	if publicURL != "" {
		return strings.TrimRight(publicURL, "/") + uri
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if trustProxy {
		if p := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	return scheme + "://" + host + uri
}

// firstValue is the first of a comma-separated header's values, as the
// proxy nearest the client set it.
func firstValue(h string) string {
	first, _, _ := strings.Cut(h, ",")
	return strings.TrimSpace(first)
}
