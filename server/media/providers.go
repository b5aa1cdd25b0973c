package media

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/channels/twilio"
	"github.com/switchboard-inbox/switchboard/server/channels/whatsapp"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// The providers a NewMedia names, each with its fetcher.
const (
	ProviderWhatsApp  = "whatsapp"
	ProviderTwilio    = "twilio"
	ProviderMessenger = "messenger"
	ProviderInstagram = "instagram"
)

// FetcherOptions configure the provider fetchers.
type FetcherOptions struct {
	// Box opens the inboxes' credentials.
	Box *secretbox.Box
	// GraphURL and GraphVersion address the WhatsApp Cloud API
	// (whatsapp.DefaultGraphURL and DefaultGraphVersion when empty;
	// tests point GraphURL at a fake).
	GraphURL     string
	GraphVersion string
	// Client sends every request; http.DefaultClient when nil. The
	// caller's context bounds each download.
	Client *http.Client
}

// Fetchers returns a fetcher for every provider whose media is
// downloaded: WhatsApp, Twilio, Messenger and Instagram.
func Fetchers(opts FetcherOptions) map[string]Fetcher {
	if opts.GraphURL == "" {
		opts.GraphURL = whatsapp.DefaultGraphURL
	}
	opts.GraphURL = strings.TrimRight(opts.GraphURL, "/")
	if opts.GraphVersion == "" {
		opts.GraphVersion = whatsapp.DefaultGraphVersion
	}
	if opts.Client == nil {
		opts.Client = http.DefaultClient
	}
	meta := metaFetcher{opts}
	return map[string]Fetcher{
		ProviderWhatsApp:  whatsAppFetcher{opts},
		ProviderTwilio:    twilioFetcher{opts},
		ProviderMessenger: meta,
		ProviderInstagram: meta,
	}
}

// whatsAppFetcher downloads WhatsApp Cloud API media in two steps: GET
// {graph}/{version}/{media_id} with the inbox's access token answers the
// media's short-lived URL, mime_type, sha256 and file_size; GET of that
// URL, with the token again, answers the bytes.
type whatsAppFetcher struct{ opts FetcherOptions }

// graphMedia is the Graph API's answer for a media id.
type graphMedia struct {
	URL      string      `json:"url"`
	MimeType string      `json:"mime_type"`
	SHA256   string      `json:"sha256"`
	FileSize json.Number `json:"file_size"` // a number, or a string holding one
	ID       string      `json:"id"`
}

// parseGraphMedia decodes the Graph API's answer for a media id and
// checks it names an absolute http(s) URL to download from.
func parseGraphMedia(r io.Reader) (graphMedia, error) {
	var gm graphMedia
	if err := json.NewDecoder(r).Decode(&gm); err != nil {
		return graphMedia{}, fmt.Errorf("decode: %w", err)
	}
	u, err := url.Parse(gm.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return graphMedia{}, errors.New("no download URL in the answer")
	}
	gm.URL = u.String()
	return gm, nil
}

// size is the declared file size, -1 when unknown.
func (gm graphMedia) size() int64 {
	n, err := gm.FileSize.Int64()
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// maxGraphAnswer bounds the Graph API's JSON answer.
const maxGraphAnswer = 64 << 10

func (f whatsAppFetcher) Fetch(ctx context.Context, in store.Inbox, md store.Media) (Download, error) {
	var src struct {
		ID     string `json:"id"`
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal(md.Source, &src); err != nil || strings.TrimSpace(src.ID) == "" {
		return Download{}, Permanent(errors.New("bad source: no WhatsApp media id"))
	}
	cfg, err := whatsapp.Open(f.opts.Box, in)
	if err != nil {
		return Download{}, fmt.Errorf("open inbox credentials: %w", err)
	}
	if cfg.AccessToken == "" {
		return Download{}, errors.New("the inbox has no access token to download media with")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.opts.GraphURL+"/"+f.opts.GraphVersion+"/"+url.PathEscape(src.ID), nil)
	if err != nil {
		return Download{}, Permanent(err)
	}
	req.Header.Set("Authorization", "Bearer "+cfg.AccessToken)
	res, err := get(f.opts.Client, req)
	if err != nil {
		return Download{}, fmt.Errorf("graph media %s: %w", src.ID, err)
	}
	gm, err := parseGraphMedia(io.LimitReader(res.Body, maxGraphAnswer))
	res.Body.Close()
	if err != nil {
		return Download{}, fmt.Errorf("graph media %s: %w", src.ID, err)
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, gm.URL, nil)
	if err != nil {
		return Download{}, Permanent(err)
	}
	req.Header.Set("Authorization", "Bearer "+cfg.AccessToken)
	if res, err = get(f.opts.Client, req); err != nil {
		return Download{}, fmt.Errorf("download media %s: %w", src.ID, err)
	}
	dl := download(res)
	dl.MimeType = cmp.Or(gm.MimeType, dl.MimeType)
	dl.SHA256 = cmp.Or(gm.SHA256, src.SHA256)
	if dl.Size < 0 {
		dl.Size = gm.size()
	}
	return dl, nil
}

// twilioFetcher downloads MMS media: GET of the MediaUrl with HTTP basic
// auth (account SID and auth token, or the inbox's API key), following
// Twilio's redirect to its media store (which gets no credentials: Go
// drops them on a redirect to another host).
type twilioFetcher struct{ opts FetcherOptions }

func (f twilioFetcher) Fetch(ctx context.Context, in store.Inbox, md store.Media) (Download, error) {
	u, err := sourceURL(md)
	if err != nil {
		return Download{}, err
	}
	cfg, err := twilio.Open(f.opts.Box, in)
	if err != nil {
		return Download{}, fmt.Errorf("open inbox credentials: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Download{}, Permanent(err)
	}
	user, pass := cfg.AccountSID, cfg.AuthToken
	if cfg.APIKeySID != "" {
		user, pass = cfg.APIKeySID, cfg.APIKeySecret
	}
	req.SetBasicAuth(user, pass)
	res, err := get(f.opts.Client, req)
	if err != nil {
		return Download{}, fmt.Errorf("twilio media: %w", err)
	}
	return download(res), nil
}

// metaFetcher downloads Messenger and Instagram attachments: GET of the
// attachment's payload.url, which needs no credentials (the URL itself
// is signed and expires).
type metaFetcher struct{ opts FetcherOptions }

func (f metaFetcher) Fetch(ctx context.Context, _ store.Inbox, md store.Media) (Download, error) {
	u, err := sourceURL(md)
	if err != nil {
		return Download{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Download{}, Permanent(err)
	}
	res, err := get(f.opts.Client, req)
	if err != nil {
		return Download{}, fmt.Errorf("%s attachment: %w", md.Provider, err)
	}
	return download(res), nil
}
