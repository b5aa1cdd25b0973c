package twilio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/channels/twilio"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

func TestRunSimulate(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), envOptions{})
	ctx := context.Background()
	run := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := twilio.RunSimulate(ctx, args, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	base := []string{"--url", e.srv.URL, "--inbox", strconv.FormatInt(e.inbox.ID, 10), "--auth-token", authToken, "--account-sid", accountSID, "--to", inboxNumber}

	out, _, err := run(append(base, "--from", "+14155550123", "--text", "hi", "--id", "SMSIM1")...)
	if err != nil || !strings.Contains(out, "200 OK") || !strings.Contains(out, `"messages":1`) || !strings.Contains(out, "<Response></Response>") {
		t.Fatalf("simulate: %v\n%s", err, out)
	}
	out, _, err = run(append(base, "--from", "+14155550123", "--text", "hi", "--id", "SMSIM1")...)
	if err != nil || !strings.Contains(out, `"duplicates":1`) {
		t.Fatalf("same --id again: %v\n%s", err, out)
	}
	out, _, err = run(append(base, "--from", "+14155550123", "--text", "see attached",
		"--media-url", "https://example.com/photo.png", "--media-url", "https://example.com/clip", "--media-type", "", "--media-type", "video/mp4")...)
	if err != nil || !strings.Contains(out, `"messages":1`) {
		t.Fatalf("MMS: %v\n%s", err, out)
	}
	ms := e.messages()
	if len(ms) != 2 || ms[0].Body != "hi" || ms[0].ProviderMessageID != "SMSIM1" || ms[1].Type != store.TypeMedia || ms[1].Body != "[image, video] see attached" || !strings.HasPrefix(ms[1].ProviderMessageID, "MM") {
		t.Fatalf("stored %+v", ms)
	}
	var c twilio.Content
	if err := json.Unmarshal(ms[1].Content, &c); err != nil || len(c.Media) != 2 || c.Media[0].ContentType != "image/png" || c.Media[1].URL != "https://example.com/clip" {
		t.Fatalf("MMS content %s", ms[1].Content)
	}

	wrong := []string{"--url", e.srv.URL, "--inbox", strconv.FormatInt(e.inbox.ID, 10), "--auth-token", "wrong", "--account-sid", accountSID, "--to", inboxNumber}
	if _, _, err := run(wrong...); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong token: %v, want the server's 401", err)
	}
	if _, _, err := run("--inbox", "1"); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("missing flags: %v", err)
	}
	if _, _, err := run("--bogus"); err == nil {
		t.Error("unknown flag accepted")
	}
	if _, errOut, err := run("-h"); err != nil || !strings.Contains(errOut, "Usage: switchboard simulate sms") || !strings.Contains(errOut, "-media-url") {
		t.Errorf("-h: %v\n%s", err, errOut)
	}
}

func TestRunSimulateBehindPublicURL(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), envOptions{publicURL: "https://inbox.example.com"})
	args := []string{"--url", e.srv.URL, "--inbox", strconv.FormatInt(e.inbox.ID, 10), "--auth-token", authToken, "--account-sid", accountSID, "--to", inboxNumber}
	var out bytes.Buffer
	if err := twilio.RunSimulate(context.Background(), args, &out, &out); err == nil {
		t.Fatalf("signed for --url while the server checks its public URL: want refused\n%s", out.String())
	}
	out.Reset()
	if err := twilio.RunSimulate(context.Background(), append(args, "--public-url", "https://inbox.example.com/"), &out, &out); err != nil {
		t.Fatalf("with --public-url: %v\n%s", err, out.String())
	}
}
