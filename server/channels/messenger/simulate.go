package messenger

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// TextMessage is what a simulated customer sends.
type TextMessage struct {
	// AccountID is the page's id (Messenger) or the Instagram account's.
	AccountID string
	// From is the customer's page- or Instagram-scoped id.
	From string
	Text string
	// ID is the mid; empty picks a random one.
	ID   string
	Time time.Time
}

// TextPayload returns a webhook body of Meta's documented shape for an
// inbox of kind, carrying one text message.
func TextPayload(kind store.InboxKind, m TextMessage) ([]byte, error) {
	if strings.TrimSpace(m.From) == "" {
		return nil, errors.New("messenger: from (the customer's scoped id) is required")
	}
	if strings.TrimSpace(m.Text) == "" {
		return nil, errors.New("messenger: text is required")
	}
	if m.ID == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		m.ID = "m_SIM" + hex.EncodeToString(b[:])
	}
	if m.Time.IsZero() {
		m.Time = time.Now()
	}
	account := m.AccountID
	if account == "" {
		account = "0"
	}
	ev, err := json.Marshal(Event{
		Sender:    Party{ID: m.From},
		Recipient: Party{ID: account},
		Timestamp: m.Time.UnixMilli(),
		Message:   &Message{Mid: m.ID, Text: m.Text},
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(Payload{Object: objectFor(kind), Entry: []Entry{{
		ID: account, Time: m.Time.UnixMilli(), Messaging: []json.RawMessage{ev},
	}}})
}

const simulateUsage = `Usage: switchboard simulate %[1]s --inbox ID --app-secret SECRET --from ID --text TEXT [flags]

Sends a text message as Meta's %[2]s webhook would: the documented
payload shape (object %[3]q), signed with X-Hub-Signature-256 under the
inbox's app secret, to a running server's %[4]s.
Prints the answer.

Flags:
`

// RunSimulate is the "simulate messenger" command.
func RunSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runSimulate(ctx, store.InboxMessenger, args, stdout, stderr)
}

// RunSimulateInstagram is the "simulate instagram" command.
func RunSimulateInstagram(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runSimulate(ctx, store.InboxInstagram, args, stdout, stderr)
}

func runSimulate(ctx context.Context, kind store.InboxKind, args []string, stdout, stderr io.Writer) error {
	cmd := "simulate " + string(kind)
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), simulateUsage, kind, displayName(kind), objectFor(kind), WebhookPathFor(kind))
		fs.PrintDefaults()
	}
	base := fs.String("url", "http://127.0.0.1:8080", "the server's base URL")
	inbox := fs.Int64("inbox", 0, displayName(kind)+" inbox id (required)")
	secret := fs.String("app-secret", "", "the inbox's Meta app secret (required)")
	account := fs.String("page-id", "", "the page's id (Messenger) or the Instagram account's, as the inbox is configured")
	from := fs.String("from", "1254459154682919", "the customer's page- or Instagram-scoped id")
	text := fs.String("text", "Hello", "message text")
	id := fs.String("id", "", "the message's mid (default: random); repeat one to see a duplicate dropped")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", cmd, fs.Arg(0))
	}
	if *inbox <= 0 || *secret == "" {
		return fmt.Errorf("%s: --inbox and --app-secret are required", cmd)
	}
	body, err := TextPayload(kind, TextMessage{AccountID: *account, From: *from, Text: *text, ID: *id})
	if err != nil {
		return err
	}
	url := strings.TrimRight(*base, "/") + strings.Replace(WebhookPathFor(kind), "{inbox_id}", strconv.FormatInt(*inbox, 10), 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(connector.MetaSignatureHeader, connector.MetaSign(body, *secret))
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", cmd, err)
	}
	fmt.Fprintf(stdout, "POST %s\n%s\n%s", url, resp.Status, answer)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: server answered %s", cmd, resp.Status)
	}
	return nil
}
