package apichannel_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/channels/apichannel"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

func TestRunSimulate(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), "", nil)
	inbox := strconv.FormatInt(e.inbox.ID, 10)
	run := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := apichannel.RunSimulate(context.Background(), args, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	base := []string{"--url", e.srv.URL + "/", "--inbox", inbox, "--token", inboundToken, "--from", "user-42", "--name", "Ada", "--text", "hi there"}

	out, _, err := run(append(base, "--id", "msg-1")...)
	if err != nil || !strings.Contains(out, "201 Created") || !strings.Contains(out, `"duplicate":false`) || !strings.Contains(out, "/channels/api/"+inbox+"/messages") {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	out, _, err = run(append(base, "--id", "msg-1")...)
	if err != nil || !strings.Contains(out, "200 OK") || !strings.Contains(out, `"duplicate":true`) {
		t.Fatalf("repeated id: %v\n%s", err, out)
	}
	if _, _, err = run(base...); err != nil {
		t.Fatalf("random id: %v", err)
	}
	ms := e.messages()
	if len(ms) != 2 || ms[0].Body != "hi there" || ms[0].ProviderMessageID != "in:msg-1" || !strings.HasPrefix(ms[1].ProviderMessageID, "in:sim-") {
		t.Fatalf("stored %+v", ms)
	}
	c, err := e.st.Contact(context.Background(), e.ws.ID, mustConversation(t, e, ms[0].ConversationID).ContactID)
	if err != nil || c.Name != "Ada" {
		t.Fatalf("contact %+v, %v", c, err)
	}

	if out, _, err = run("--url", e.srv.URL, "--inbox", inbox, "--token", strings.Repeat("w", 40)); err == nil || !strings.Contains(out, "401") {
		t.Fatalf("wrong token: %v\n%s", err, out)
	}
	if _, _, err = run("--url", e.srv.URL, "--inbox", inbox); err == nil || !strings.Contains(err.Error(), "--token") {
		t.Fatalf("no token: %v", err)
	}
	if _, _, err = run("--url", e.srv.URL, "--token", inboundToken); err == nil || !strings.Contains(err.Error(), "--inbox") {
		t.Fatalf("no inbox: %v", err)
	}
	if _, _, err = run(append(base, "stray")...); err == nil {
		t.Fatal("a stray argument was accepted")
	}
	if _, errOut, err := run("-h"); err != nil || !strings.Contains(errOut, "Usage: switchboard simulate api") || !strings.Contains(errOut, "-token") {
		t.Fatalf("-h: %v\n%s", err, errOut)
	}
	if _, _, err := run("--no-such-flag"); err == nil {
		t.Fatal("an unknown flag was accepted")
	}
}

func mustConversation(t testing.TB, e *env, id int64) store.Conversation {
	t.Helper()
	c, err := e.st.Conversation(context.Background(), e.ws.ID, id)
	must(t, err)
	return c
}
