package twilio

import (
	"crypto/tls"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
)

// The worked example of Twilio's webhook security documentation: auth
// token 12345, this URL and these parameters sign to this value.
func TestSignDocumentedExample(t *testing.T) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675310"},
		"Digits":  {"1234"},
		"From":    {"+14158675310"},
		"To":      {"+18005551212"},
	}
	const fullURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
	const want = "GvWf1cFY/Q7PnoempGyD5oXAezc="
	if got := Sign("12345", fullURL, params); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if err := Verify("12345", fullURL, params, want); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	params.Set("Digits", "1235")
	if err := Verify("12345", fullURL, params, want); err != ErrSignatureInvalid {
		t.Fatalf("Verify with a changed digit: %v, want ErrSignatureInvalid", err)
	}
}

func TestSignIsOrderIndependent(t *testing.T) {
	a := url.Values{"B": {"2"}, "A": {"1"}, "M": {"y", "x"}}
	b := url.Values{"M": {"x", "y"}, "A": {"1"}, "B": {"2"}}
	if Sign("t", "https://h/p", a) != Sign("t", "https://h/p", b) {
		t.Fatal("signature depends on parameter or value order")
	}
	// Name and value run together: moving a character between them
	// changes nothing, which is how Twilio defines it.
	if Sign("t", "u", url.Values{"AB": {"C"}}) != Sign("t", "u", url.Values{"A": {"BC"}}) {
		t.Fatal("name+value concatenation differs from Twilio's")
	}
}

func TestVerifyErrors(t *testing.T) {
	p := url.Values{"A": {"1"}}
	good := Sign("token", "https://h/p", p)
	for _, tt := range []struct {
		name, header string
		want         error
	}{
		{"missing", "", ErrNoSignature},
		{"not base64", "%%%", ErrSignatureFormat},
		{"url base64 alphabet", "_-" + good[2:], ErrSignatureFormat},
		{"too short", good[:8], ErrSignatureFormat},
		{"wrong", Sign("other", "https://h/p", p), ErrSignatureInvalid},
		{"good", good, nil},
	} {
		if err := Verify("token", "https://h/p", p, tt.header); err != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestURLVariants(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"https://h.example/p?q=1", []string{"https://h.example/p?q=1", "https://h.example:443/p?q=1"}},
		{"https://h.example:443/p", []string{"https://h.example:443/p", "https://h.example/p"}},
		{"http://h.example/p", []string{"http://h.example/p", "http://h.example:80/p"}},
		{"http://h.example:8080/p", []string{"http://h.example:8080/p"}},
		{"http://[::1]:80/p", []string{"http://[::1]:80/p", "http://[::1]/p"}},
		{"ftp://h/p", []string{"ftp://h/p"}},
		{"::not a url", []string{"::not a url"}},
	} {
		if got := urlVariants(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("urlVariants(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRequestURL(t *testing.T) {
	r := httptest.NewRequest("POST", "http://10.0.0.5:8080/channels/sms/1/webhook?x=%2F", nil)
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-Host", "inbox.example.com")
	for _, tt := range []struct {
		name, public string
		trust        bool
		tls          bool
		want         string
	}{
		{"public URL wins", "https://inbox.example.com/", true, false, "https://inbox.example.com/channels/sms/1/webhook?x=%2F"},
		{"request as received", "", false, false, "http://10.0.0.5:8080/channels/sms/1/webhook?x=%2F"},
		{"TLS", "", false, true, "https://10.0.0.5:8080/channels/sms/1/webhook?x=%2F"},
		{"trusted proxy", "", true, false, "https://inbox.example.com/channels/sms/1/webhook?x=%2F"},
	} {
		req := r.Clone(r.Context())
		if tt.tls {
			req.TLS = &tls.ConnectionState{}
		}
		if got := requestURL(req, tt.public, tt.trust); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
