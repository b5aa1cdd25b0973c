package twilio

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// IncomingMessage is what a simulated customer texts.
type IncomingMessage struct {
	AccountSID string
	// From is the customer's number and To the inbox's, both E.164.
	From string
	To   string
	Body string
	// MediaURLs make it an MMS; MediaTypes are their content types, by
	// index, guessed from the URL's extension where missing.
	MediaURLs  []string
	MediaTypes []string
	// SID is the message SID; empty picks a random SM… (MM… with media).
	SID string
}

// IncomingForm returns the form Twilio posts to a Messaging webhook for m,
// with the parameters Twilio documents (geographic ones left out).
func IncomingForm(m IncomingMessage) (url.Values, error) {
	if m.From == "" || m.To == "" || m.AccountSID == "" {
		return nil, errors.New("twilio: account sid, from and to are required")
	}
	if m.SID == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		prefix := "SM"
		if len(m.MediaURLs) > 0 {
			prefix = "MM"
		}
		m.SID = prefix + hex.EncodeToString(b[:])
	}
	f := url.Values{
		"MessageSid":    {m.SID},
		"SmsMessageSid": {m.SID},
		"SmsSid":        {m.SID},
		"AccountSid":    {m.AccountSID},
		"From":          {m.From},
		"To":            {m.To},
		"Body":          {m.Body},
		"NumMedia":      {strconv.Itoa(len(m.MediaURLs))},
		"NumSegments":   {"1"},
		"SmsStatus":     {"received"},
		"ApiVersion":    {"2010-04-01"},
	}
	for i, u := range m.MediaURLs {
		ct := ""
		if i < len(m.MediaTypes) {
			ct = m.MediaTypes[i]
		}
		if ct == "" {
			ct = mime.TypeByExtension(path.Ext(u))
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		f.Set("MediaUrl"+strconv.Itoa(i), u)
		f.Set("MediaContentType"+strconv.Itoa(i), ct)
	}
	return f, nil
}

const simulateUsage = `Usage: switchboard simulate sms --inbox ID --auth-token TOKEN --account-sid AC... --from NUMBER --to NUMBER [flags]

Sends a text (or, with --media-url, an MMS) as Twilio's Messaging webhook
would: an application/x-www-form-urlencoded POST to a running server's
/channels/sms/{inbox}/webhook, signed with X-Twilio-Signature under the
account's auth token. Prints the answer.

The signature covers the URL Twilio requests. A server with
SWITCHBOARD_PUBLIC_URL checks it against that URL: pass the same value as
--public-url.

Flags:
`

// mediaFlag is a repeatable flag.
type mediaFlag []string

func (f *mediaFlag) String() string     { return strings.Join(*f, ",") }
func (f *mediaFlag) Set(v string) error { *f = append(*f, v); return nil }

// RunSimulate is the "simulate sms" command.
func RunSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate sms", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), simulateUsage)
		fs.PrintDefaults()
	}
	base := fs.String("url", "http://127.0.0.1:8080", "the server's base URL")
	public := fs.String("public-url", "", "the server's SWITCHBOARD_PUBLIC_URL, when it has one (default: --url)")
	inbox := fs.Int64("inbox", 0, "SMS inbox id (required)")
	token := fs.String("auth-token", "", "the inbox's Twilio auth token (required)")
	account := fs.String("account-sid", "", "the inbox's Twilio account SID, AC... (required)")
	from := fs.String("from", "+14155550100", "customer's phone number, E.164")
	to := fs.String("to", "", "the inbox's Twilio number, E.164 (required)")
	text := fs.String("text", "Hello", "message text")
	id := fs.String("id", "", "message SID (default: random); repeat one to see a duplicate dropped")
	var media, types mediaFlag
	fs.Var(&media, "media-url", "URL of an attachment, making it an MMS; repeat for several")
	fs.Var(&types, "media-type", "content type of the --media-url of the same position (default: from its extension)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *inbox <= 0 || *token == "" || *account == "" || *to == "" {
		return errors.New("simulate sms: --inbox, --auth-token, --account-sid and --to are required")
	}
	form, err := IncomingForm(IncomingMessage{AccountSID: *account, From: *from, To: *to, Body: *text, MediaURLs: media, MediaTypes: types, SID: *id})
	if err != nil {
		return fmt.Errorf("simulate sms: %w", err)
	}
	p := "/channels/sms/" + strconv.FormatInt(*inbox, 10) + "/webhook"
	target := strings.TrimRight(*base, "/") + p
	signed := target
	if *public != "" {
		signed = strings.TrimRight(*public, "/") + p
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("simulate sms: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(SignatureHeader, Sign(*token, signed, form))
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("simulate sms: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("simulate sms: read answer: %w", err)
	}
	fmt.Fprintf(stdout, "POST %s (message %s)\n%s\n", target, form.Get("MessageSid"), resp.Status)
	if res := resp.Header.Get(ResultHeader); res != "" {
		fmt.Fprintf(stdout, "%s: %s\n", ResultHeader, res)
	}
	fmt.Fprintf(stdout, "%s\n", answer)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("simulate sms: server answered %s", resp.Status)
	}
	return nil
}
