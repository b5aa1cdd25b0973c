package connector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Errors of OpenCredentials, which a webhook answers 503 to.
var (
	// ErrNotConfigured: the inbox has no credentials.
	ErrNotConfigured = errors.New("inbox has no credentials configured")
	// ErrUnavailable: the server has no SWITCHBOARD_SECRET_KEY.
	ErrUnavailable = errors.New("connector unavailable: SWITCHBOARD_SECRET_KEY is not set")
	// ErrInvalidConfig wraps every refusal of a configuration a user
	// gave (a missing field, an unknown one); the API answers 422.
	ErrInvalidConfig = errors.New("invalid configuration")
)

// DecodeConfig decodes a user's JSON configuration of a connector into
// dst, refusing unknown fields and trailing data, with errors wrapping
// ErrInvalidConfig.
func DecodeConfig(raw json.RawMessage, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the configuration object", ErrInvalidConfig)
	}
	return nil
}

// owner binds sealed credentials to their inbox, so a blob copied to
// another inbox's row does not open there.
func owner(kind store.InboxKind, inboxID int64) string {
	return string(kind) + "-inbox:" + strconv.FormatInt(inboxID, 10)
}

// SealCredentials returns what store.Store.ConfigureInbox keeps for an
// inbox of kind: settings as plain JSON (nothing secret: ids, numbers)
// and creds as JSON sealed with box for this inbox only.
func SealCredentials(box *secretbox.Box, kind store.InboxKind, inboxID int64, settings, creds any) (json.RawMessage, []byte, error) {
	if box == nil {
		return nil, nil, ErrUnavailable
	}
	st, err := json.Marshal(settings)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: encode settings: %w", kind, err)
	}
	plain, err := json.Marshal(creds)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: encode credentials: %w", kind, err)
	}
	sealed, err := box.Seal(plain, owner(kind, inboxID))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: seal credentials: %w", kind, err)
	}
	return st, sealed, nil
}

// OpenCredentials decodes an inbox's settings into settings and opens its
// sealed credentials into creds (both pointers to JSON-decodable values).
func OpenCredentials(box *secretbox.Box, in store.Inbox, settings, creds any) error {
	if box == nil {
		return ErrUnavailable
	}
	if len(in.Credentials) == 0 {
		return ErrNotConfigured
	}
	plain, err := box.Open(in.Credentials, owner(in.Kind, in.ID))
	if err != nil {
		return fmt.Errorf("%s: inbox %d credentials (was SWITCHBOARD_SECRET_KEY changed?): %w", in.Kind, in.ID, err)
	}
	if err := json.Unmarshal(plain, creds); err != nil {
		return fmt.Errorf("%s: inbox %d credentials: decode: %w", in.Kind, in.ID, err)
	}
	if len(in.Settings) > 0 {
		if err := json.Unmarshal(in.Settings, settings); err != nil {
			return fmt.Errorf("%s: inbox %d settings: %w", in.Kind, in.ID, err)
		}
	}
	return nil
}
