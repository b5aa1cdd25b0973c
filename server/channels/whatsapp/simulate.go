package whatsapp

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
)

// TextMessage is what a simulated customer sends.
type TextMessage struct {
	PhoneNumberID string
	// From is the sender's number; a leading + and any spaces or dashes
	// are dropped, as wa_id is digits only.
	From string
	Name string
	Text string
	// ID is the provider message id; empty picks a random wamid.
	ID   string
	Time time.Time
}

// TextPayload returns a webhook body of Meta's documented shape carrying
// one text message.
func TextPayload(m TextMessage) ([]byte, error) {
	waID := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, m.From)
	if waID == "" {
		return nil, errors.New("whatsapp: from must be a phone number")
	}
	if m.ID == "" {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		m.ID = "wamid.SIM" + strings.ToUpper(hex.EncodeToString(b[:]))
	}
	if m.Time.IsZero() {
		m.Time = time.Now()
	}
	raw, err := json.Marshal(Message{From: waID, ID: m.ID, Timestamp: strconv.FormatInt(m.Time.Unix(), 10), Type: "text", Text: &Text{Body: m.Text}})
	if err != nil {
		return nil, err
	}
	c := Contact{WaID: waID}
	c.Profile.Name = m.Name
	return json.Marshal(Payload{Object: ObjectWhatsApp, Entry: []Entry{{
		ID: "0",
		Changes: []Change{{Field: FieldMessages, Value: Value{
			MessagingProduct: "whatsapp",
			Metadata:         Metadata{PhoneNumberID: m.PhoneNumberID},
			Contacts:         []Contact{c},
			Messages:         []json.RawMessage{raw},
		}}},
	}}})
}

const simulateUsage = `Usage: switchboard simulate whatsapp --inbox ID --app-secret SECRET --from NUMBER --text TEXT [flags]

Sends a text message as WhatsApp's Cloud API webhook would: the documented
payload shape, signed with X-Hub-Signature-256 under the inbox's app secret,
to a running server's /channels/whatsapp/{inbox}/webhook. Prints the answer.

Flags:
`

// RunSimulate is the "simulate whatsapp" command.
func RunSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate whatsapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), simulateUsage)
		fs.PrintDefaults()
	}
	base := fs.String("url", "http://127.0.0.1:8080", "the server's base URL")
	inbox := fs.Int64("inbox", 0, "WhatsApp inbox id (required)")
	secret := fs.String("app-secret", "", "the inbox's Meta app secret (required)")
	phoneID := fs.String("phone-number-id", "", "the business number's phone number id, as the inbox is configured")
	from := fs.String("from", "+15551234567", "customer's phone number")
	name := fs.String("name", "", "customer's WhatsApp profile name")
	text := fs.String("text", "Hello", "message text")
	id := fs.String("id", "", "provider message id (default: random); repeat one to see a duplicate dropped")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *inbox <= 0 || *secret == "" {
		return errors.New("simulate whatsapp: --inbox and --app-secret are required")
	}
	body, err := TextPayload(TextMessage{PhoneNumberID: *phoneID, From: *from, Name: *name, Text: *text, ID: *id})
	if err != nil {
		return err
	}
	url := strings.TrimRight(*base, "/") + "/channels/whatsapp/" + strconv.FormatInt(*inbox, 10) + "/webhook"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("simulate whatsapp: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(connector.MetaSignatureHeader, connector.MetaSign(body, *secret))
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("simulate whatsapp: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("simulate whatsapp: read answer: %w", err)
	}
	fmt.Fprintf(stdout, "POST %s\n%s\n%s", url, resp.Status, answer)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("simulate whatsapp: server answered %s", resp.Status)
	}
	return nil
}
