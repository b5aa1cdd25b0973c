package messenger_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/channels/messenger"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

func TestRunSimulate(t *testing.T) {
	for _, tt := range []struct {
		kind    store.InboxKind
		run     func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) error
		account string
		from    string
	}{
		{store.InboxMessenger, func(ctx context.Context, args []string, o, e *bytes.Buffer) error {
			return messenger.RunSimulate(ctx, args, o, e)
		}, pageID, ada},
		{store.InboxInstagram, func(ctx context.Context, args []string, o, e *bytes.Buffer) error {
			return messenger.RunSimulateInstagram(ctx, args, o, e)
		}, igID, igCustomer},
	} {
		t.Run(string(tt.kind), func(t *testing.T) {
			e := newEnv(t, teststore.SQLite(t), tt.kind, nil)
			ctx := context.Background()
			args := []string{"--url", e.srv.URL, "--inbox", strconv.FormatInt(e.inbox.ID, 10), "--app-secret", appSecret,
				"--page-id", tt.account, "--from", tt.from, "--text", "hi from the simulator", "--id", "m_SIM_1"}
			var stdout, stderr bytes.Buffer
			if err := tt.run(ctx, args, &stdout, &stderr); err != nil {
				t.Fatalf("simulate: %v\n%s%s", err, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), "200 OK") || !strings.Contains(stdout.String(), `"messages":1`) {
				t.Fatalf("output %q: want the server's 200 with one message", stdout.String())
			}
			ms := e.messages()
			if len(ms) != 1 || ms[0].Body != "hi from the simulator" || ms[0].ProviderMessageID != "m_SIM_1" {
				t.Fatalf("stored %+v", ms)
			}
			// The same id again is a duplicate.
			stdout.Reset()
			if err := tt.run(ctx, args, &stdout, &stderr); err != nil || !strings.Contains(stdout.String(), `"duplicates":1`) {
				t.Fatalf("repeat: %v %q, want a duplicate", err, stdout.String())
			}
			// A wrong secret is refused by the server, and the command fails.
			bad := append(append([]string{}, args...), "--app-secret", "wrong")
			if err := tt.run(ctx, bad, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "401") {
				t.Fatalf("wrong secret: %v, want the server's 401", err)
			}
			// Usage.
			stderr.Reset()
			if err := tt.run(ctx, []string{"-h"}, &stdout, &stderr); err != nil || !strings.Contains(stderr.String(), "switchboard simulate "+string(tt.kind)) || !strings.Contains(stderr.String(), "-page-id") {
				t.Fatalf("-h: %v %q", err, stderr.String())
			}
			for _, a := range [][]string{
				{"--text", "hi"},
				{"--inbox", "1"},
				{"--inbox", "x", "--app-secret", "s"},
				{"--inbox", "1", "--app-secret", "s", "--text", " "},
				{"--inbox", "1", "--app-secret", "s", "extra"},
			} {
				if err := tt.run(ctx, a, &stdout, &stderr); err == nil {
					t.Errorf("simulate %v: want an error", a)
				}
			}
		})
	}
}
