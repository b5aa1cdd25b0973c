package hub

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Sign returns the hex HMAC-SHA256 of msg under secret: the signature
// Pusher uses for channel auth, user sign-in and webhooks.
func Sign(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// checkAuth reports whether auth, of the form "{key}:{hexsig}", signs msg
// for app. The comparison is constant-time.
func checkAuth(app *App, auth, msg string) bool {
	key, sig, ok := strings.Cut(auth, ":")
	if !ok || key != app.Key {
		return false
	}
	want := Sign(app.Secret, msg)
	return hmac.Equal([]byte(sig), []byte(want))
}

// channelAuthMessage is the string signed to authorize socketID on a
// private or presence channel; channelData is empty for private channels.
func channelAuthMessage(socketID, channel, channelData string) string {
	if channelData == "" {
		return socketID + ":" + channel
	}
	return socketID + ":" + channel + ":" + channelData
}

// userAuthMessage is the string signed for pusher:signin.
func userAuthMessage(socketID, userData string) string {
	return socketID + "::user::" + userData
}
