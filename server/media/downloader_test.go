package media_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/channels/twilio"
	"github.com/switchboard-inbox/switchboard/server/channels/whatsapp"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

const (
	appSecret     = "meta-app-secret"
	accessToken   = "EAAG-token"
	phoneNumberID = "106540352242922"
	// The WhatsApp fixture's media id and message id.
	fixtureMediaID = "1003383421387256"
	fixtureWamid   = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgB="

	twilioSID   = "ACa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
	twilioToken = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
	twilioPhone = "+14155559999"
)

func ctx(t testing.TB) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fakeGraph is the WhatsApp Cloud API's media endpoints: GET
// /{version}/{media_id} answers the documented JSON, GET /lookaside/{id}
// the bytes, both only with the inbox's bearer token.
type fakeGraph struct {
	srv *httptest.Server
	mu  sync.Mutex
	// items by media id.
	items map[string]*fakeItem
}

type fakeItem struct {
	content []byte
	mime    string
	// sha256 overrides the digest the Graph API reports.
	sha256 string
	// fileSize overrides the declared size ("" tells the truth).
	fileSize string
	// metaStatus and downloadStatus, when set, answer the step with an
	// error; failDownloads counts down 500s before the download works.
	metaStatus     int
	downloadStatus int
	failDownloads  int
	// chunked streams the download without a Content-Length.
	chunked bool
	// downloads counts the download requests.
	downloads int
}

func newFakeGraph(t testing.TB) *fakeGraph {
	g := &fakeGraph{items: map[string]*fakeItem{}}
	graphError := func(w http.ResponseWriter, status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":%q,"type":"OAuthException","code":100,"fbtrace_id":"AbCdEf"}}`, msg)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v23.0/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+accessToken {
			graphError(w, http.StatusUnauthorized, "Invalid OAuth access token.")
			return
		}
		g.mu.Lock()
		it, ok := g.items[r.PathValue("id")]
		g.mu.Unlock()
		if !ok {
			graphError(w, http.StatusNotFound, "Unsupported get request. Object with ID does not exist")
			return
		}
		if it.metaStatus != 0 {
			graphError(w, it.metaStatus, "refused")
			return
		}
		size := it.fileSize
		if size == "" {
			size = strconv.Itoa(len(it.content))
		}
		sum := it.sha256
		if sum == "" {
			sum = hexSum(it.content)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"messaging_product": "whatsapp",
			"url":               g.srv.URL + "/whatsapp_business/attachments/?mid=" + r.PathValue("id") + "&ext=1744344496&hash=ATsd",
			"mime_type":         it.mime,
			"sha256":            sum,
			"file_size":         size,
			"id":                r.PathValue("id"),
		})
	})
	mux.HandleFunc("GET /whatsapp_business/attachments/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+accessToken {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		g.mu.Lock()
		it, ok := g.items[r.URL.Query().Get("mid")]
		if ok {
			it.downloads++
		}
		var fail bool
		if ok && it.failDownloads > 0 {
			it.failDownloads--
			fail = true
		}
		g.mu.Unlock()
		switch {
		case !ok:
			http.NotFound(w, r)
		case fail:
			http.Error(w, "upstream hiccup", http.StatusInternalServerError)
		case it.downloadStatus != 0:
			http.Error(w, "refused", it.downloadStatus)
		default:
			w.Header().Set("Content-Type", it.mime)
			if it.chunked {
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush() // no Content-Length: the body decides
			}
			w.Write(it.content)
		}
	})
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGraph) set(id string, it *fakeItem) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.items[id] = it
}

func (g *fakeGraph) downloads(id string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.items[id].downloads
}

// world is a workspace with WhatsApp and SMS inboxes on a real store,
// their webhooks, a blob directory, a downloader talking to fake
// providers, and the REST API.
type world struct {
	t       testing.TB
	st      store.Store
	box     *secretbox.Box
	ws      store.Workspace
	owner   store.Agent
	token   string
	wa, sms store.Inbox
	graph   *fakeGraph
	waHook  *httptest.Server
	smsHook *httptest.Server
	root    string
	blobs   *media.Dir
	api     string

	mu        sync.Mutex
	committed []int64
}

func newWorld(t testing.TB, st store.Store) *world {
	t.Helper()
	c := ctx(t)
	box, err := secretbox.New(bytes.Repeat([]byte{42}, secretbox.KeySize))
	must(t, err)
	w := &world{t: t, st: st, box: box, graph: newFakeGraph(t)}
	w.ws, w.owner, err = st.CreateWorkspace(c, store.NewWorkspace{Name: "Acme", OwnerEmail: "owner@example.com"})
	must(t, err)
	_, w.token, err = st.CreateAPIToken(c, w.ws.ID, store.NewAPIToken{AgentID: w.owner.ID, Name: "test"})
	must(t, err)

	w.wa, err = st.CreateInbox(c, w.ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Support line"})
	must(t, err)
	settings, sealed, err := whatsapp.Seal(box, w.wa.ID, whatsapp.Config{PhoneNumberID: phoneNumberID, VerifyToken: "verify", AppSecret: appSecret, AccessToken: accessToken})
	must(t, err)
	w.wa, err = st.ConfigureInbox(c, w.ws.ID, w.wa.ID, settings, sealed)
	must(t, err)
	w.waHook = httptest.NewServer(whatsapp.New(whatsapp.Options{Store: st, Box: box, MaxBodyBytes: 64 << 10}))
	t.Cleanup(w.waHook.Close)

	w.sms, err = st.CreateInbox(c, w.ws.ID, store.NewInbox{Kind: store.InboxSMS, Name: "Text line"})
	must(t, err)
	settings, sealed, err = twilio.Seal(box, w.sms.ID, twilio.Config{AccountSID: twilioSID, AuthToken: twilioToken, PhoneNumber: twilioPhone})
	must(t, err)
	w.sms, err = st.ConfigureInbox(c, w.ws.ID, w.sms.ID, settings, sealed)
	must(t, err)
	w.smsHook = httptest.NewServer(twilio.New(twilio.Options{Store: st, Box: box, MaxBodyBytes: 64 << 10}))
	t.Cleanup(w.smsHook.Close)

	w.root = filepath.Join(t.TempDir(), "media")
	w.blobs, err = media.NewDir(w.root)
	must(t, err)
	apiSrv := httptest.NewServer(api.New(st, api.Options{Media: w.blobs}))
	t.Cleanup(apiSrv.Close)
	w.api = apiSrv.URL
	return w
}

// downloader returns a downloader over the world's store and blobs; opts
// adjusts its options.
func (w *world) downloader(opts func(*media.Options)) *media.Downloader {
	o := media.Options{
		Store: w.st,
		Blobs: w.blobs,
		Fetchers: media.Fetchers(media.FetcherOptions{Box: w.box, GraphURL: w.graph.srv.URL,
			Client: &http.Client{Timeout: 30 * time.Second}}),
		OnCommit: func(id int64) {
			w.mu.Lock()
			w.committed = append(w.committed, id)
			w.mu.Unlock()
		},
	}
	if opts != nil {
		opts(&o)
	}
	return media.NewDownloader(o)
}

func (w *world) commits() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.committed)
}

// deliverWhatsApp posts the image fixture, signed, with the message and
// media ids replaced.
func (w *world) deliverWhatsApp(wamid, mediaID string) {
	w.t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "whatsapp_image.json"))
	must(w.t, err)
	body := []byte(strings.NewReplacer(fixtureWamid, wamid, fixtureMediaID, mediaID).Replace(string(raw)))
	req, err := http.NewRequest(http.MethodPost, w.waHook.URL+"/channels/whatsapp/"+strconv.FormatInt(w.wa.ID, 10)+"/webhook", bytes.NewReader(body))
	must(w.t, err)
	req.Header.Set(connector.MetaSignatureHeader, connector.MetaSign(body, appSecret))
	res, err := http.DefaultClient.Do(req)
	must(w.t, err)
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		w.t.Fatalf("webhook answered %d %s", res.StatusCode, answer)
	}
}

// message finds the message with providerID.
func (w *world) message(inbox store.Inbox, providerID string) store.Message {
	w.t.Helper()
	m, err := w.st.MessageByProviderID(ctx(w.t), w.ws.ID, inbox.ID, providerID)
	must(w.t, err)
	return m
}

func (w *world) media(id int64) store.Media {
	w.t.Helper()
	md, err := w.st.Media(ctx(w.t), w.ws.ID, id)
	must(w.t, err)
	return md
}

// get calls GET /api/v1/media/{id} with token.
func (w *world) get(id int64, token string) (int, http.Header, []byte) {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodGet, w.api+"/api/v1/media/"+strconv.FormatInt(id, 10), nil)
	must(w.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	must(w.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	must(w.t, err)
	return res.StatusCode, res.Header, b
}

// blobFiles counts the files in the blob directory.
func (w *world) blobFiles() int {
	w.t.Helper()
	n := 0
	must(w.t, filepath.WalkDir(w.root, func(_ string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			n++
		}
		return err
	}))
	return n
}

// TestWhatsAppImage: an image webhook stores a message with one pending
// media item; the downloader fetches it from the Graph API, checks its
// digest and stores it; message.updated tells the UI; the member
// downloads it, another workspace cannot.
func TestWhatsAppImage(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		w := newWorld(t, st)
		photo := bytes.Repeat([]byte("\xff\xd8\xff\xe0JFIF scratch "), 100)
		w.graph.set(fixtureMediaID, &fakeItem{content: photo, mime: "image/jpeg"})
		w.deliverWhatsApp(fixtureWamid, fixtureMediaID)

		m := w.message(w.wa, fixtureWamid)
		if m.Type != store.TypeMedia || len(m.Media) != 1 || m.Media[0].State != store.MediaPending || m.Media[0].MimeType != "image/jpeg" {
			t.Fatalf("stored message %+v, want one pending image", m)
		}
		md := w.media(m.Media[0].ID)
		if md.Caption != "This is the one with the scratch" || md.Provider != "whatsapp" {
			t.Errorf("media %+v", md)
		}
		// Not ready yet.
		status, _, body := w.get(md.ID, w.token)
		if status != http.StatusConflict || !strings.Contains(string(body), `"media_not_ready"`) || !strings.Contains(string(body), `"state":"pending"`) {
			t.Errorf("before the download: %d %s", status, body)
		}
		before, err := st.EventsAfter(ctx(t), w.ws.ID, 0, 1000)
		must(t, err)
		lastSeq := before.Events[len(before.Events)-1].Seq

		w.downloader(nil).Drain(ctx(t))

		md = w.media(md.ID)
		if md.State != store.MediaStored || md.Size != int64(len(photo)) || md.SHA256 != hexSum(photo) || md.Attempts != 1 {
			t.Fatalf("after the download: %+v", md)
		}
		r, size, err := w.blobs.Open(ctx(t), md.BlobKey)
		must(t, err)
		got, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, photo) || size != int64(len(photo)) {
			t.Error("the blob is not the photo")
		}
		page, err := st.EventsAfter(ctx(t), w.ws.ID, lastSeq, 10)
		must(t, err)
		if len(page.Events) != 1 || page.Events[0].Kind != store.EventMessageUpdated {
			t.Fatalf("events after the download: %+v", page.Events)
		}
		var payload store.MessagePayload
		must(t, json.Unmarshal(page.Events[0].Payload, &payload))
		if payload.Message.ID != m.ID || len(payload.Message.Media) != 1 || payload.Message.Media[0].State != store.MediaStored ||
			payload.Message.Media[0].Size != int64(len(photo)) {
			t.Errorf("message.updated payload media %+v", payload.Message.Media)
		}
		if w.commits() != 1 {
			t.Errorf("OnCommit called %d times, want 1", w.commits())
		}

		status, hdr, body := w.get(md.ID, w.token)
		if status != http.StatusOK || !bytes.Equal(body, photo) {
			t.Fatalf("member's GET: %d, %d bytes", status, len(body))
		}
		for name, want := range map[string]string{
			"Content-Type": "image/jpeg", "Content-Length": strconv.Itoa(len(photo)), "Content-Disposition": "inline",
			"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox", "Cache-Control": "private, max-age=3600",
		} {
			if got := hdr.Get(name); got != want {
				t.Errorf("%s: %q, want %q", name, got, want)
			}
		}

		// Another workspace's member cannot tell the item exists.
		other, owner, err := st.CreateWorkspace(ctx(t), store.NewWorkspace{Name: "Other", OwnerEmail: "other@example.com"})
		must(t, err)
		_, otherToken, err := st.CreateAPIToken(ctx(t), other.ID, store.NewAPIToken{AgentID: owner.ID, Name: "other"})
		must(t, err)
		status, _, body = w.get(md.ID, otherToken)
		if status != http.StatusNotFound || !strings.Contains(string(body), `"not_found"`) {
			t.Errorf("another workspace's GET: %d %s", status, body)
		}

		// The provider retries the webhook: no second download.
		w.deliverWhatsApp(fixtureWamid, fixtureMediaID)
		w.downloader(nil).Drain(ctx(t))
		if n := w.graph.downloads(fixtureMediaID); n != 1 {
			t.Errorf("downloaded %d times, want 1", n)
		}
	})
}

// fakeTwilio serves MMS media as Twilio does: GET of the MediaUrl with
// basic auth redirects to the media store, which serves the bytes.
type fakeTwilio struct {
	srv  *httptest.Server
	mu   sync.Mutex
	auth []string
}

func newFakeTwilio(t testing.TB, media map[string][]byte, types map[string]string) *fakeTwilio {
	f := &fakeTwilio{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2010-04-01/Accounts/{sid}/Messages/{mm}/Media/{me}", func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		f.mu.Lock()
		f.auth = append(f.auth, user+":"+pass)
		f.mu.Unlock()
		if !ok || user != twilioSID || pass != twilioToken || r.PathValue("sid") != twilioSID {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`)
			return
		}
		if _, ok := media[r.PathValue("me")]; !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"code": 20404, "message": "The requested resource was not found", "status": 404}`)
			return
		}
		http.Redirect(w, r, "/media-store/"+r.PathValue("me"), http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("GET /media-store/{me}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", types[r.PathValue("me")])
		w.Write(media[r.PathValue("me")])
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// TestTwilioMMS: an MMS with two media is stored with both pending; each
// is downloaded with the account's basic auth through Twilio's redirect.
func TestTwilioMMS(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		w := newWorld(t, st)
		const mm = "MM8e2d9c4b7a6f5e4d3c2b1a0f9e8d7c6b"
		photo, clip := []byte("\x89PNG\r\n\x1a\n a part photo"), bytes.Repeat([]byte("mp4 "), 500)
		ft := newFakeTwilio(t, map[string][]byte{"ME0": photo, "ME1": clip}, map[string]string{"ME0": "image/png", "ME1": "video/mp4"})
		mediaURL := func(me string) string {
			return ft.srv.URL + "/2010-04-01/Accounts/" + twilioSID + "/Messages/" + mm + "/Media/" + me
		}
		form := url.Values{
			"ToCountry": {"US"}, "ToState": {"CA"}, "SmsMessageSid": {mm}, "NumMedia": {"2"}, "ToCity": {"SAN FRANCISCO"},
			"FromZip": {"10001"}, "SmsSid": {mm}, "FromState": {"NY"}, "SmsStatus": {"received"}, "FromCity": {"NEW YORK"},
			"Body": {"Is this the right part?"}, "FromCountry": {"US"}, "To": {twilioPhone}, "ToZip": {"94105"}, "NumSegments": {"1"},
			"MessageSid": {mm}, "AccountSid": {twilioSID}, "From": {"+12125550123"}, "ApiVersion": {"2010-04-01"},
			"MediaUrl0": {mediaURL("ME0")}, "MediaContentType0": {"image/png"},
			"MediaUrl1": {mediaURL("ME1")}, "MediaContentType1": {"video/mp4"},
		}
		path := "/channels/sms/" + strconv.FormatInt(w.sms.ID, 10) + "/webhook"
		req, err := http.NewRequest(http.MethodPost, w.smsHook.URL+path, strings.NewReader(form.Encode()))
		must(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(twilio.SignatureHeader, twilio.Sign(twilioToken, w.smsHook.URL+path, form))
		res, err := http.DefaultClient.Do(req)
		must(t, err)
		answer, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("webhook answered %d %s", res.StatusCode, answer)
		}
		m := w.message(w.sms, mm)
		if len(m.Media) != 2 || m.Media[0].MimeType != "image/png" || m.Media[1].MimeType != "video/mp4" {
			t.Fatalf("stored media %+v, want the png and the mp4", m.Media)
		}

		w.downloader(nil).Drain(ctx(t))

		for i, want := range [][]byte{photo, clip} {
			md := w.media(m.Media[i].ID)
			if md.State != store.MediaStored || md.SHA256 != hexSum(want) {
				t.Errorf("media %d: %+v", i, md)
			}
			status, _, body := w.get(md.ID, w.token)
			if status != http.StatusOK || !bytes.Equal(body, want) {
				t.Errorf("GET media %d: %d, %d bytes", i, status, len(body))
			}
		}
		ft.mu.Lock()
		defer ft.mu.Unlock()
		if len(ft.auth) != 2 || ft.auth[0] != twilioSID+":"+twilioToken || ft.auth[1] != ft.auth[0] {
			t.Errorf("basic auth seen %q, want the account SID and auth token twice", ft.auth)
		}
	})
}

// fast makes retries due at once, so a test drains again without
// waiting for a real backoff.
func fast(o *media.Options) {
	o.BaseBackoff, o.MaxBackoff = time.Nanosecond, time.Nanosecond
}

// drainUntil drains until cond holds; a retry is due within a
// nanosecond of being scheduled, so this takes a few rounds at most.
func drainUntil(t testing.TB, d *media.Downloader, cond func() bool) {
	t.Helper()
	for range 100 {
		if cond() {
			return
		}
		d.Drain(ctx(t))
		time.Sleep(time.Millisecond)
	}
	t.Fatal("condition never held")
}

// TestRetryThenSuccess: a 500 is retried with the error kept; the next
// attempt stores the item.
func TestRetryThenSuccess(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		w := newWorld(t, st)
		photo := []byte("a photo after a hiccup")
		w.graph.set(fixtureMediaID, &fakeItem{content: photo, mime: "image/jpeg", failDownloads: 1})
		w.deliverWhatsApp(fixtureWamid, fixtureMediaID)
		id := w.message(w.wa, fixtureWamid).Media[0].ID

		// The default backoff keeps the failed item waiting.
		w.downloader(nil).Drain(ctx(t))
		md := w.media(id)
		if md.State != store.MediaPending || md.Attempts != 1 || !strings.Contains(md.Error, "500") || !md.NextAttemptAt.After(md.UpdatedAt) {
			t.Fatalf("after a 500: %+v", md)
		}
		w.downloader(nil).Drain(ctx(t))
		if n := w.graph.downloads(fixtureMediaID); n != 1 {
			t.Fatalf("retried before its backoff: %d downloads", n)
		}
		if w.commits() != 0 {
			t.Errorf("a retry committed %d events", w.commits())
		}

		// Move its clock on: claimed as of its next attempt (as a
		// downloader would be then) and released due now, it is stored.
		must(t, st.RetryMedia(ctx(t), claimAt(t, st, md.NextAttemptAt), store.Now(), md.Error))
		w.downloader(nil).Drain(ctx(t))
		md = w.media(id)
		if md.State != store.MediaStored || md.Attempts != 3 || md.Error != "" {
			t.Errorf("after the retry: %+v", md)
		}
	})
}

// claimAt claims the one pending item as of when, with a minute's lease.
func claimAt(t testing.TB, st store.Store, when time.Time) store.MediaJob {
	t.Helper()
	return claimFor(t, st, when, time.Minute)
}

// claimFor claims the one due item as of when, for lease: a downloader
// that crashes right after.
func claimFor(t testing.TB, st store.Store, when time.Time, lease time.Duration) store.MediaJob {
	t.Helper()
	js, err := st.ClaimMedia(ctx(t), when, lease, 10)
	must(t, err)
	if len(js) != 1 {
		t.Fatalf("claimed %d items at %v, want 1", len(js), when)
	}
	return js[0]
}

// TestPermanentFailures: a 4xx, a declared size over the limit, and a
// body that turns out over the limit whatever was declared fail the item
// at once, with the reason, appending message.updated; nothing is left
// in the blob store.
func TestPermanentFailures(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		w := newWorld(t, st)
		big := bytes.Repeat([]byte("x"), 4096)
		cases := []struct {
			name  string
			item  *fakeItem
			error string
		}{
			{"graph 404", &fakeItem{metaStatus: http.StatusNotFound}, "HTTP 404"},
			{"download 403", &fakeItem{content: []byte("x"), mime: "image/jpeg", downloadStatus: http.StatusForbidden}, "HTTP 403"},
			{"declared too large", &fakeItem{content: big, mime: "image/jpeg"}, "larger than the size limit"},
			{"larger than declared", &fakeItem{content: big, mime: "image/jpeg", fileSize: "10", chunked: true}, "larger than the size limit"},
		}
		for i, tc := range cases {
			mediaID, wamid := "mid-"+strconv.Itoa(i), "wamid.fail"+strconv.Itoa(i)
			w.graph.set(mediaID, tc.item)
			w.deliverWhatsApp(wamid, mediaID)
		}
		w.downloader(func(o *media.Options) { o.MaxBytes = 1024 }).Drain(ctx(t))
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				m := w.message(w.wa, "wamid.fail"+strconv.Itoa(i))
				md := w.media(m.Media[0].ID)
				if md.State != store.MediaFailed || md.Attempts != 1 || !strings.Contains(md.Error, tc.error) {
					t.Errorf("media %+v, want failed with %q", md, tc.error)
				}
				if m.Media[0].State != store.MediaFailed {
					t.Errorf("message media %+v", m.Media)
				}
				status, _, body := w.get(md.ID, w.token)
				if status != http.StatusConflict || !strings.Contains(string(body), `"media_failed"`) || !strings.Contains(string(body), tc.error) {
					t.Errorf("GET: %d %s", status, body)
				}
			})
		}
		if w.commits() != len(cases) {
			t.Errorf("OnCommit called %d times, want %d", w.commits(), len(cases))
		}
		if n := w.blobFiles(); n != 0 {
			t.Errorf("%d files left in the blob store", n)
		}
	})
}

// TestDigestMismatchIsRetried: bytes that do not match the provider's
// digest are not kept, and the item is tried again.
func TestDigestMismatchIsRetried(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		w := newWorld(t, st)
		w.graph.set(fixtureMediaID, &fakeItem{content: []byte("corrupted"), mime: "image/jpeg", sha256: hexSum([]byte("original"))})
		w.deliverWhatsApp(fixtureWamid, fixtureMediaID)
		w.downloader(nil).Drain(ctx(t))
		md := w.media(w.message(w.wa, fixtureWamid).Media[0].ID)
		if md.State != store.MediaPending || !strings.Contains(md.Error, "sha256 mismatch") {
			t.Errorf("media %+v, want pending with a digest error", md)
		}
		if n := w.blobFiles(); n != 0 {
			t.Errorf("%d files left in the blob store", n)
		}
	})
}

// TestGivesUpAfterMaxAttempts: an item that keeps failing transiently
// fails with the last error once out of attempts.
func TestGivesUpAfterMaxAttempts(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		w := newWorld(t, st)
		w.graph.set(fixtureMediaID, &fakeItem{content: []byte("x"), mime: "image/jpeg", failDownloads: 100})
		w.deliverWhatsApp(fixtureWamid, fixtureMediaID)
		id := w.message(w.wa, fixtureWamid).Media[0].ID
		d := w.downloader(func(o *media.Options) { fast(o); o.MaxAttempts = 3 })
		drainUntil(t, d, func() bool { return w.media(id).State == store.MediaFailed })
		md := w.media(id)
		if md.Attempts != 3 || !strings.Contains(md.Error, "500") {
			t.Errorf("media %+v, want failed after 3 attempts with the 500", md)
		}
	})
}

// TestLeaseTakeover: an item claimed by a downloader that crashed is
// hidden while the lease runs, then taken over once it ends; the crashed
// claim can no longer complete it.
func TestLeaseTakeover(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		w := newWorld(t, st)
		w.graph.set("mid-held", &fakeItem{content: []byte("held"), mime: "image/jpeg"})
		w.graph.set("mid-lost", &fakeItem{content: []byte("taken over"), mime: "image/jpeg"})
		w.deliverWhatsApp("wamid.held", "mid-held")
		claimFor(t, st, store.Now(), time.Hour) // a replica holds it, alive
		w.deliverWhatsApp("wamid.lost", "mid-lost")
		crashed := claimFor(t, st, store.Now(), time.Millisecond) // a replica that died
		held, lost := w.message(w.wa, "wamid.held").Media[0].ID, w.message(w.wa, "wamid.lost").Media[0].ID

		drainUntil(t, w.downloader(nil), func() bool { return w.media(lost).State == store.MediaStored })
		md := w.media(lost)
		if md.Attempts != 2 || md.SHA256 != hexSum([]byte("taken over")) {
			t.Errorf("taken over: %+v", md)
		}
		if md := w.media(held); md.State != store.MediaPending || w.graph.downloads("mid-held") != 0 {
			t.Errorf("an item under a running lease was downloaded: %+v", md)
		}
		if _, _, err := st.MarkMediaStored(ctx(t), crashed, store.StoredBlob{Key: "stale", Size: 1}); !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("the crashed claim completed the item: %v", err)
		}
		if md := w.media(lost); md.BlobKey == "stale" {
			t.Error("the crashed claim overwrote the blob")
		}
	})
}

// TestOtherProviders: a Messenger attachment is fetched from its URL with
// no credentials; an item of a provider with no fetcher fails.
func TestOtherProviders(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		w := newWorld(t, st)
		var sawAuth atomic.Bool
		cdn := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" {
				sawAuth.Store(true)
			}
			rw.Header().Set("Content-Type", "audio/mp4")
			rw.Write([]byte("voice note"))
		}))
		t.Cleanup(cdn.Close)
		c := ctx(t)
		contact, _, err := st.UpsertContact(c, w.ws.ID, store.Identity{Channel: "messenger", ExternalID: "PSID-1"}, store.NewContact{Name: "Pat"})
		must(t, err)
		conv, _, err := st.OpenConversation(c, w.ws.ID, store.NewConversation{InboxID: w.wa.ID, ContactID: contact.ID})
		must(t, err)
		created, err := st.CreateMessage(c, w.ws.ID, store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionIn, Type: store.TypeMedia,
			Body: "[audio]", ProviderMessageID: "m_1", Media: []store.NewMedia{
				{Provider: media.ProviderMessenger, Source: json.RawMessage(`{"url":"` + cdn.URL + `/audioclip-1.mp4?oh=sig"}`)},
				{Provider: "carrier-pigeon", Source: json.RawMessage(`{"id":"1"}`)},
			}})
		must(t, err)
		w.downloader(nil).Drain(c)
		voice, pigeon := w.media(created.Message.Media[0].ID), w.media(created.Message.Media[1].ID)
		if voice.State != store.MediaStored || voice.MimeType != "audio/mp4" || voice.Size != int64(len("voice note")) {
			t.Errorf("messenger media %+v", voice)
		}
		if sawAuth.Load() {
			t.Error("credentials were sent to the attachment URL")
		}
		if pigeon.State != store.MediaFailed || !strings.Contains(pigeon.Error, "no downloader") {
			t.Errorf("unknown provider's media %+v", pigeon)
		}
	})
}

// TestRunStopsOnCancel: Run downloads what Notify announces and returns
// once its context ends.
func TestRunStopsOnCancel(t *testing.T) {
	st := teststore.SQLite(t)
	w := newWorld(t, st)
	w.graph.set(fixtureMediaID, &fakeItem{content: []byte("live"), mime: "image/jpeg"})
	d := w.downloader(func(o *media.Options) { o.Interval = time.Hour })
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(runCtx) }()
	w.deliverWhatsApp(fixtureWamid, fixtureMediaID)
	id := w.message(w.wa, fixtureWamid).Media[0].ID
	d.Notify(w.ws.ID)
	for i := 0; w.media(id).State != store.MediaStored; i++ {
		if i == 2000 {
			t.Fatal("never downloaded")
		}
		d.Notify(w.ws.ID)
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}
