package datarights_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/datarights"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

const appSecret = "meta-app-secret"

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// sign builds a signed_request from a raw JSON payload under secret, the
// way Meta does (unpadded base64url).
func sign(payload, secret string) string {
	p := base64.RawURLEncoding.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(p))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) + "." + p
}

func payload(userID string, issuedAt time.Time) string {
	return fmt.Sprintf(`{"algorithm":"HMAC-SHA256","expires":0,"issued_at":%d,"user_id":%q}`, issuedAt.Unix(), userID)
}

// TestParseSignedRequest: a good request parses, padded or not, with a
// numeric user id too; every bad one is refused with its error.
func TestParseSignedRequest(t *testing.T) {
	good := sign(payload("1234567890", now), appSecret)
	p, err := datarights.ParseSignedRequest(good, appSecret, now)
	must(t, err)
	if p.UserID != "1234567890" || p.IssuedAt != now.Unix() {
		t.Fatalf("parsed %+v", p)
	}
	sig, body, _ := strings.Cut(good, ".")
	padded := sig + "=." + body
	if _, err := datarights.ParseSignedRequest(padded, appSecret, now); err != nil {
		t.Fatalf("padded signature: %v", err)
	}
	numeric := sign(fmt.Sprintf(`{"algorithm":"HMAC-SHA256","issued_at":%d,"user_id":987654321}`, now.Unix()), appSecret)
	if p, err := datarights.ParseSignedRequest(numeric, appSecret, now); err != nil || p.UserID != "987654321" {
		t.Fatalf("numeric user id: %+v, %v", p, err)
	}
	if got := datarights.SignRequest(datarights.SignedRequest{Algorithm: "HMAC-SHA256", IssuedAt: now.Unix(), UserID: "42"}, appSecret); got == "" {
		t.Fatal("SignRequest made nothing")
	} else if p, err := datarights.ParseSignedRequest(got, appSecret, now); err != nil || p.UserID != "42" {
		t.Fatalf("SignRequest round trip: %+v, %v", p, err)
	}

	for _, tc := range []struct {
		name, signed string
		want         error
	}{
		{"empty", "", datarights.ErrMalformed},
		{"no dot", strings.ReplaceAll(good, ".", ""), datarights.ErrMalformed},
		{"three parts", good + ".x", datarights.ErrMalformed},
		{"signature not base64url", "!!!." + body, datarights.ErrMalformed},
		{"payload not base64url", sig + ".***", datarights.ErrMalformed},
		{"short signature", base64.RawURLEncoding.EncodeToString([]byte("short")) + "." + body, datarights.ErrMalformed},
		{"other secret", sign(payload("1", now), "not-the-secret"), datarights.ErrSignature},
		{"payload swapped", sig + "." + base64.RawURLEncoding.EncodeToString([]byte(payload("someone-else", now))), datarights.ErrSignature},
		{"payload not JSON", sign("not json", appSecret), datarights.ErrMalformed},
		{"payload an array", sign(`[1,2]`, appSecret), datarights.ErrMalformed},
		{"wrong algorithm", sign(fmt.Sprintf(`{"algorithm":"HMAC-SHA1","issued_at":%d,"user_id":"1"}`, now.Unix()), appSecret), datarights.ErrAlgorithm},
		{"no algorithm", sign(fmt.Sprintf(`{"issued_at":%d,"user_id":"1"}`, now.Unix()), appSecret), datarights.ErrAlgorithm},
		{"expired", sign(payload("1", now.Add(-datarights.MaxSignedRequestAge-time.Second)), appSecret), datarights.ErrExpired},
		{"from the future", sign(payload("1", now.Add(datarights.MaxClockSkew+time.Second)), appSecret), datarights.ErrExpired},
		{"no issued_at", sign(`{"algorithm":"HMAC-SHA256","user_id":"1"}`, appSecret), datarights.ErrExpired},
		{"no user_id", sign(fmt.Sprintf(`{"algorithm":"HMAC-SHA256","issued_at":%d}`, now.Unix()), appSecret), datarights.ErrNoUser},
		{"blank user_id", sign(payload("  ", now), appSecret), datarights.ErrNoUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := datarights.ParseSignedRequest(tc.signed, appSecret, now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzParseSignedRequest: no input panics, and whatever is accepted
// carries a signature that checks under the secret, the HM-SHA256
// algorithm and a user id.
func FuzzParseSignedRequest(f *testing.F) {
	f.Add(sign(payload("1234567890", now), appSecret))
	f.Add(sign(`{"algorithm":"HMAC-SHA256","issued_at":1795459200,"user_id":1}`, appSecret))
	f.Add("a.b")
	f.Add(".")
	f.Add("==.==")
	f.Fuzz(func(t *testing.T, signed string) {
		p, err := datarights.ParseSignedRequest(signed, appSecret, now)
		if err != nil {
			return
		}
		sig, body, _ := strings.Cut(signed, ".")
		mac := hmac.New(sha256.New, []byte(appSecret))
		mac.Write([]byte(body))
		got, derr := base64.RawURLEncoding.DecodeString(strings.TrimRight(sig, "="))
		if derr != nil || !hmac.Equal(got, mac.Sum(nil)) {
			t.Fatalf("accepted %q whose signature does not check", signed)
		}
		if p.UserID == "" || !strings.EqualFold(p.Algorithm, "HMAC-SHA256") {
			t.Fatalf("accepted %q as %+v", signed, p)
		}
	})
}

// metaServer serves the callback over st with a Meta inbox (messenger)
// whose app secret is appSecret, and an API inbox.
type metaServer struct {
	url            string
	svc            *datarights.Service
	ws             store.Workspace
	meta, apiInbox store.Inbox
	noSecret       store.Inbox
}

func newMetaServer(t *testing.T, st store.Store) metaServer {
	t.Helper()
	c := ctx(t)
	var m metaServer
	var err error
	m.ws, _, err = st.CreateWorkspace(c, store.NewWorkspace{Name: "Shop", OwnerEmail: fmt.Sprintf("o%d@example.com", time.Now().UnixNano()), OwnerName: "O"})
	must(t, err)
	m.meta, err = st.CreateInbox(c, m.ws.ID, store.NewInbox{Kind: store.InboxMessenger, Name: "Page"})
	must(t, err)
	m.apiInbox, err = st.CreateInbox(c, m.ws.ID, store.NewInbox{Kind: store.InboxAPI, Name: "API"})
	must(t, err)
	m.noSecret, err = st.CreateInbox(c, m.ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Unconfigured"})
	must(t, err)
	blobs, err := media.NewDir(t.TempDir())
	must(t, err)
	m.svc = datarights.New(datarights.Options{Store: st, Blobs: blobs})
	h := datarights.NewCallback(datarights.CallbackOptions{Store: st, Service: m.svc, Now: func() time.Time { return now },
		AppSecret: func(in store.Inbox) (string, error) {
			if in.ID == m.noSecret.ID {
				return "", datarights.ErrNoAppSecret
			}
			return appSecret, nil
		}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	m.url = srv.URL
	return m
}

func postForm(t testing.TB, u string, form url.Values) (int, []byte) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, b
}

func get(t testing.TB, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, string(b)
}

// TestDataDeletionCallback: a good signed_request erases every contact
// of the inbox's workspace known by the user id on Messenger, Instagram
// or WhatsApp (and no contact of another workspace with the same id),
// and answers the documented {"url","confirmation_code"}; the url is the
// status page, which shows the status and dates and nothing personal;
// every bad request is refused with a JSON error and erases nothing.
func TestDataDeletionCallback(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		c := ctx(t)
		m := newMetaServer(t, st)
		userID := fmt.Sprintf("%d", time.Now().UnixNano())
		alice, _, err := st.CreateContact(c, m.ws.ID, store.NewContact{Name: "Alice Deleteme"}, []store.Identity{{Channel: "messenger", ExternalID: userID}})
		must(t, err)
		aliceIG, _, err := st.CreateContact(c, m.ws.ID, store.NewContact{Name: "Alice on Instagram"}, []store.Identity{{Channel: "instagram", ExternalID: userID}})
		must(t, err)
		bob, _, err := st.CreateContact(c, m.ws.ID, store.NewContact{Name: "Bob Stays"}, []store.Identity{{Channel: "messenger", ExternalID: userID + "0"}})
		must(t, err)
		apiSame, _, err := st.CreateContact(c, m.ws.ID, store.NewContact{Name: "API user"}, []store.Identity{{Channel: store.IdentityChannelForInbox(m.apiInbox.ID), ExternalID: userID}})
		must(t, err)
		other, _, err := st.CreateWorkspace(c, store.NewWorkspace{Name: "Other", OwnerEmail: fmt.Sprintf("x%d@example.com", time.Now().UnixNano()), OwnerName: "X"})
		must(t, err)
		otherAlice, _, err := st.CreateContact(c, other.ID, store.NewContact{Name: "Alice elsewhere"}, []store.Identity{{Channel: "messenger", ExternalID: userID}})
		must(t, err)
		deletion := func(inboxID int64) string { return fmt.Sprintf("%s/channels/meta/%d/data-deletion", m.url, inboxID) }

		for _, tc := range []struct {
			name   string
			url    string
			form   url.Values
			status int
			code   string
		}{
			{"bad signature", deletion(m.meta.ID), url.Values{"signed_request": {sign(payload(userID, now), "wrong")}}, 401, "bad_signature"},
			{"wrong algorithm", deletion(m.meta.ID), url.Values{"signed_request": {sign(fmt.Sprintf(`{"algorithm":"none","issued_at":%d,"user_id":%q}`, now.Unix(), userID), appSecret)}}, 400, "invalid"},
			{"malformed base64", deletion(m.meta.ID), url.Values{"signed_request": {"%%%.@@@"}}, 400, "invalid"},
			{"missing field", deletion(m.meta.ID), url.Values{"other": {"x"}}, 400, "invalid"},
			{"expired", deletion(m.meta.ID), url.Values{"signed_request": {sign(payload(userID, now.Add(-48*time.Hour)), appSecret)}}, 400, "expired"},
			{"unknown inbox", deletion(999999), url.Values{"signed_request": {sign(payload(userID, now), appSecret)}}, 404, "not_found"},
			{"inbox id not a number", m.url + "/channels/meta/abc/data-deletion", url.Values{"signed_request": {sign(payload(userID, now), appSecret)}}, 404, "not_found"},
			{"not a Meta inbox", deletion(m.apiInbox.ID), url.Values{"signed_request": {sign(payload(userID, now), appSecret)}}, 404, "not_found"},
			{"no app secret", deletion(m.noSecret.ID), url.Values{"signed_request": {sign(payload(userID, now), appSecret)}}, 503, "unavailable"},
			{"too large", deletion(m.meta.ID), url.Values{"signed_request": {strings.Repeat("a", datarights.MaxSignedRequestBytes)}}, 413, "payload_too_large"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := postForm(t, tc.url, tc.form)
				var e struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if status != tc.status || json.Unmarshal(body, &e) != nil || e.Error.Code != tc.code || e.Error.Message == "" {
					t.Fatalf("status %d body %s, want %d %s", status, body, tc.status, tc.code)
				}
			})
		}
		if reqs, err := st.ListErasureRequests(c, m.ws.ID, 10); err != nil || len(reqs) != 0 {
			t.Fatalf("bad requests recorded erasures: %+v, %v", reqs, err)
		}

		status, body := postForm(t, deletion(m.meta.ID), url.Values{"signed_request": {sign(payload(userID, now), appSecret)}})
		var reply struct {
			URL              string `json:"url"`
			ConfirmationCode string `json:"confirmation_code"`
		}
		if status != 200 || json.Unmarshal(body, &reply) != nil || reply.ConfirmationCode == "" ||
			reply.URL != m.url+"/channels/meta/data-deletion/"+reply.ConfirmationCode {
			t.Fatalf("status %d body %s", status, body)
		}
		var keys map[string]any
		must(t, json.Unmarshal(body, &keys))
		if len(keys) != 2 {
			t.Fatalf("answer %s, want exactly url and confirmation_code", body)
		}
		code, page := get(t, reply.URL)
		if code != 200 || !strings.Contains(page, reply.ConfirmationCode) || !strings.Contains(page, "pending") {
			t.Fatalf("status page before the run: %d %s", code, page)
		}
		m.svc.RunPending(c)
		code, page = get(t, reply.URL)
		if code != 200 || !strings.Contains(page, "completed") {
			t.Fatalf("status page after the run: %d %s", code, page)
		}
		for _, personal := range []string{userID, "Alice", "Instagram", "messenger"} {
			if strings.Contains(page, personal) {
				t.Fatalf("status page shows %q: %s", personal, page)
			}
		}
		for _, gone := range []int64{alice.ID, aliceIG.ID} {
			if _, err := st.Contact(c, m.ws.ID, gone); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("contact %d after the callback: %v", gone, err)
			}
		}
		for _, kept := range []struct{ ws, id int64 }{{m.ws.ID, bob.ID}, {m.ws.ID, apiSame.ID}, {other.ID, otherAlice.ID}} {
			if _, err := st.Contact(c, kept.ws, kept.id); err != nil {
				t.Fatalf("contact %d of workspace %d after the callback: %v", kept.id, kept.ws, err)
			}
		}
		reqs, err := st.ListErasureRequests(c, m.ws.ID, 10)
		must(t, err)
		if len(reqs) != 1 || reqs[0].Source != store.ErasureByMeta || reqs[0].Counts.Contacts != 2 || reqs[0].RequestedBy != 0 {
			t.Fatalf("requests %+v", reqs)
		}

		// A user the workspace does not know: still a code, completed
		// with nothing erased.
		status, body = postForm(t, deletion(m.meta.ID), url.Values{"signed_request": {sign(payload("unknown-user-1", now), appSecret)}})
		if status != 200 || json.Unmarshal(body, &reply) != nil || reply.ConfirmationCode == "" {
			t.Fatalf("unknown user: %d %s", status, body)
		}
		m.svc.RunPending(c)
		if code, page := get(t, reply.URL); code != 200 || !strings.Contains(page, "completed") {
			t.Fatalf("unknown user's status page: %d %s", code, page)
		}

		// Unknown and malformed codes are 404 pages.
		for _, bad := range []string{"AAAAAAAAAAAAAAAAAAAA", "not-a-code", strings.Repeat("A", 200)} {
			if code, page := get(t, m.url+"/channels/meta/data-deletion/"+bad); code != 404 || !strings.Contains(page, "no data deletion request") {
				t.Fatalf("code %q: %d %s", bad, code, page)
			}
		}
	})
}
