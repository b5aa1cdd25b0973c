package whatsapp

import "testing"

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
