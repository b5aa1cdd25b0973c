package media

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Fetcher downloads one provider's media. An error whose chain holds a
// Permanent() bool method answering true fails the item at once; any
// other error is retried.
type Fetcher interface {
	Fetch(ctx context.Context, in store.Inbox, md store.Media) (Download, error)
}

// Download is a media item's content on its way from the provider.
type Download struct {
	// Body is the content; the caller closes it.
	Body io.ReadCloser
	// MimeType is the provider's content type, "" when it named none.
	MimeType string
	// Size is the length the provider declared, -1 when unknown. It only
	// lets a download known too large fail early: the limit is enforced
	// on the bytes read.
	Size int64
	// SHA256 is the provider's digest of the content (hex or base64),
	// checked when not empty.
	SHA256 string
}

// StatusError is a provider's HTTP answer other than 200.
type StatusError struct {
	Status int
	// Detail is the start of the answer's body, for the agent and the log.
	Detail string
}

func (e *StatusError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Detail)
}

// Permanent reports a refusal that will not change on retry: a 4xx other
// than 408 (timeout) and 429 (rate limited).
func (e *StatusError) Permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// permanentError wraps an error that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() error   { return e.err }
func (e permanentError) Permanent() bool { return true }

// Permanent marks err as one retrying cannot fix.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err's chain says retrying cannot fix it.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// maxDetailBytes bounds what is kept of an error answer.
const maxDetailBytes = 512

// get sends req and returns its answer when it is a 200; otherwise it
// reads the start of the body into a StatusError.
func get(client *http.Client, req *http.Request) (*http.Response, error) {
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode == http.StatusOK {
		return res, nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, maxDetailBytes))
	return nil, &StatusError{Status: res.StatusCode, Detail: strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))}
}

// download is res as a Download.
func download(res *http.Response) Download {
	return Download{Body: res.Body, MimeType: res.Header.Get("Content-Type"), Size: res.ContentLength}
}

// sourceURL decodes a source {"url": "..."} and checks it is an absolute
// http(s) URL.
func sourceURL(md store.Media) (string, error) {
	var src struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(md.Source, &src); err != nil {
		return "", Permanent(fmt.Errorf("bad source: %w", err))
	}
	u, err := url.Parse(src.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", Permanent(fmt.Errorf("bad source URL %.100q", src.URL))
	}
	return u.String(), nil
}

// checkDigest compares a blob's hex SHA-256 with a provider's digest,
// given in hex or base64.
func checkDigest(got, want string) error {
	want = strings.TrimSpace(want)
	if want == "" {
		return nil
	}
	sum, err := hex.DecodeString(want)
	if err != nil || len(sum) != sha256.Size {
		if sum, err = base64.StdEncoding.DecodeString(want); err != nil || len(sum) != sha256.Size {
			return nil // not a digest we can read: nothing to check against
		}
	}
	if hex.EncodeToString(sum) != got {
		return fmt.Errorf("sha256 mismatch: provider says %s, got %s", hex.EncodeToString(sum), got)
	}
	return nil
}
