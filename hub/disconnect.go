package hub

import "fmt"

// Disconnect is a reason to close a connection, carrying the Pusher close
// code the client acts on: 4000–4099 do not reconnect unchanged, 4100–4199
// reconnect after backoff, 4200–4299 reconnect at once. Codes 4300–4399 are
// errors reported with pusher:error that leave the connection open.
type Disconnect struct {
	Code    int
	Message string
}

func (d *Disconnect) Error() string { return fmt.Sprintf("pusher %d: %s", d.Code, d.Message) }

// The close reasons Switchboard sends, with Pusher's documented codes.
var (
	// DisconnectAppNotFound: no app has the key in the URL.
	DisconnectAppNotFound = &Disconnect{4001, "Application does not exist"}
	// DisconnectAppDisabled: the app exists but is disabled.
	DisconnectAppDisabled = &Disconnect{4003, "Application disabled"}
	// DisconnectOverQuota: the app is at its max_connections.
	DisconnectOverQuota = &Disconnect{4004, "Application is over connection quota"}
	// DisconnectPathNotFound: the URL is not /app/{key}.
	DisconnectPathNotFound = &Disconnect{4005, "Path not found"}
	// DisconnectInvalidVersion: the protocol parameter is not a number.
	DisconnectInvalidVersion = &Disconnect{4006, "Invalid version string format"}
	// DisconnectUnsupportedProtocol: the protocol version is not 5–7.
	DisconnectUnsupportedProtocol = &Disconnect{4007, "Unsupported protocol version"}
	// DisconnectNoProtocol: the protocol parameter is missing.
	DisconnectNoProtocol = &Disconnect{4008, "No protocol version supplied"}
	// DisconnectUnauthorized: a failed sign-in, or the user's connections
	// were terminated through the HTTP API.
	DisconnectUnauthorized = &Disconnect{4009, "Connection is unauthorized"}
	// DisconnectOverCapacity: the server is at SWITCHBOARD_MAX_CONNECTIONS.
	DisconnectOverCapacity = &Disconnect{4100, "Over capacity"}
	// DisconnectSlowConsumer: the connection's send queue overflowed because
	// the client reads too slowly. It may reconnect after a backoff.
	DisconnectSlowConsumer = &Disconnect{4100, "Over capacity: client too slow to read its messages"}
	// DisconnectShutdown: the server is shutting down or restarting.
	DisconnectShutdown = &Disconnect{4200, "Server shutting down, reconnect"}
	// DisconnectPongTimeout: the server pinged and heard nothing back.
	DisconnectPongTimeout = &Disconnect{4201, "Pong reply not received"}
)

// Error codes sent with pusher:error on a connection that stays open.
const (
	// CodeBadMessage: a malformed, binary or unknown message. Switchboard's
	// own code in Pusher's "other errors" range.
	CodeBadMessage = 4300
	// CodeClientEventRejected: Pusher's code for a refused client event
	// (rate limit; Switchboard also uses it for size, kind and permission).
	CodeClientEventRejected = 4301
	// CodeWatchlistTooLong: a sign-in's watchlist exceeds MaxWatchlist.
	CodeWatchlistTooLong = 4302
)
