package twilio

import "testing"

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		permanent bool
		text      string
	}{
		{"request timeout", 408, ``, false, "Twilio API answered HTTP 408: Request Timeout"},
		{"not found", 404, `{"code":20404,"message":"The requested resource /2010-04-01/Accounts/AC0/Messages.json was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`, true,
			"Twilio error 20404: The requested resource /2010-04-01/Accounts/AC0/Messages.json was not found"},
		{"json without code", 400, `{"message":"bad"}`, true, "Twilio API answered HTTP 400: bad"},
		{"json array", 500, `[1]`, false, "Twilio API answered HTTP 500: Internal Server Error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := classify(tc.status, []byte(tc.body))
			if e.Permanent() != tc.permanent || e.Error() != tc.text {
				t.Fatalf("permanent %v %q, want %v %q", e.Permanent(), e.Error(), tc.permanent, tc.text)
			}
		})
	}
	if e := classify(400, []byte(`{"code":21211,"message":"x","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`)); e.MoreInfo != "https://www.twilio.com/docs/errors/21211" {
		t.Errorf("more_info %q", e.MoreInfo)
	}
}
