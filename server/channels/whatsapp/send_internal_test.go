package whatsapp

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		permanent bool
		text      string
	}{
		{"throttled", 429, `{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"fbtrace_id":"A"}}`, false, "WhatsApp error 130429: Rate limit hit"},
		{"pair rate limit on a 400", 400, `{"error":{"message":"(#131056) (Business Account, Consumer Account) pair rate limit hit","code":131056}}`, false, "WhatsApp error 131056: (Business Account, Consumer Account) pair rate limit hit"},
		{"server error", 503, `{"error":{"message":"Service temporarily unavailable","code":131016}}`, false, "WhatsApp error 131016: Service temporarily unavailable"},
		{"not json", 502, `<html>Bad Gateway</html>`, false, "WhatsApp API answered HTTP 502: Bad Gateway"},
		{"window closed", 400, `{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}}`, true,
			"WhatsApp error 131047: Re-engagement message: Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
		{"expired token", 401, `{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"B"}}`, true, "WhatsApp error 190: Error validating access token: Session has expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := classify(tc.status, []byte(tc.body))
			if e.Permanent() != tc.permanent || e.Error() != tc.text {
				t.Fatalf("permanent %v %q, want %v %q", e.Permanent(), e.Error(), tc.permanent, tc.text)
			}
		})
	}
}

// TestRequestShapes holds the send bodies to the Cloud API's documented
// message objects.
func TestRequestShapes(t *testing.T) {
	tests := []struct {
		name string
		m    store.Message
		want string
	}{
		{"text", store.Message{Type: store.TypeText, Body: "Hi Carol"},
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"text","text":{"body":"Hi Carol"}}`},
		{"template with parameters", store.Message{Type: store.TypeTemplate, Body: "[template order_update]",
			Content: []byte(`{"template":{"name":"order_update","language":"en_US","parameters":["#1042","Friday"]}}`)},
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"template","template":{"name":"order_update","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"#1042"},{"type":"text","text":"Friday"}]}]}}`},
		{"template without parameters", store.Message{Type: store.TypeTemplate,
			Content: []byte(`{"template":{"name":"hello_world","language":"en_US","parameters":[]}}`)},
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`},
	}
	for _, tc := range tests {
		req, err := request("16505551234", tc.m, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, _ := json.Marshal(req)
		if string(got) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	for _, m := range []store.Message{
		{Type: store.TypeTemplate, Content: []byte(`{}`)},
		{Type: store.TypeTemplate, Content: []byte(`{"template":{"name":"x"}}`)},
		{Type: store.TypeMedia, Body: "[image]"},
	} {
		var se *SendError
		if _, err := request("1", m, nil); !errors.As(err, &se) || !se.Permanent() {
			t.Errorf("%+v: %v, want a permanent error", m, err)
		}
	}
}
