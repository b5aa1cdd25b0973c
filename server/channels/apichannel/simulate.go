package apichannel

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
)

const simulateUsage = `Usage: switchboard simulate api --inbox ID --token TOKEN --from USER_ID --text TEXT [flags]

Sends a customer's message as a website or custom source would: the
documented JSON body, with "Authorization: Bearer <inbound token>", to a
running server's POST /channels/api/{inbox}/messages. Prints the answer:
201 for a new message, 200 with "duplicate": true for a message id the
inbox already has.

Flags:
`

// RunSimulate is the "simulate api" command.
func RunSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), simulateUsage)
		fs.PrintDefaults()
	}
	base := fs.String("url", "http://127.0.0.1:8080", "the server's base URL")
	inbox := fs.Int64("inbox", 0, "API inbox id (required)")
	token := fs.String("token", "", "the inbox's inbound token (required)")
	from := fs.String("from", "user-42", "the customer's id in the source")
	name := fs.String("name", "", "the customer's name")
	email := fs.String("email", "", "the customer's email")
	text := fs.String("text", "Hello", "message text")
	id := fs.String("id", "", "message id, the idempotency key (default: random); repeat one to see a duplicate dropped")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("simulate api: unexpected argument %q", fs.Arg(0))
	}
	if *inbox <= 0 || *token == "" {
		return errors.New("simulate api: --inbox and --token are required")
	}
	if *id == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		*id = "sim-" + hex.EncodeToString(b[:])
	}
	var req InboundRequest
	req.Contact = InboundContact{ID: *from, Name: *name, Email: *email}
	req.Message = InboundMessage{ID: *id, Text: *text}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("simulate api: %w", err)
	}
	url := strings.TrimRight(*base, "/") + "/channels/api/" + strconv.FormatInt(*inbox, 10) + "/messages"
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("simulate api: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+*token)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(hr)
	if err != nil {
		return fmt.Errorf("simulate api: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("simulate api: read answer: %w", err)
	}
	fmt.Fprintf(stdout, "POST %s\n%s\n%s", url, resp.Status, answer)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("simulate api: server answered %s", resp.Status)
	}
	return nil
}
