package ai

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Masked.
		{"email", "write to ana.silva+shop@example.co.uk today", "write to [email] today"},
		{"two emails", "a@b.io, c.d@e-f.com", "[email], [email]"},
		{"intl spaces", "call +44 20 7946 0958 please", "call [phone] please"},
		{"intl parens", "+1 (555) 123-4567", "[phone]"},
		{"intl trunk", "+44 (0)20 7946 0958.", "[phone]."},
		{"intl compact", "+351912345678", "[phone]"},
		{"intl dots", "+33.6.12.34.56.78", "[phone]"},
		{"00 prefix", "0049 30 1234567", "[phone]"},
		{"nanp parens", "(555) 123-4567", "[phone]"},
		{"nanp dashes", "call 555-123-4567!", "call [phone]!"},
		{"nanp dots", "555.123.4567", "[phone]"},
		{"uk national", "020 7946 0958", "[phone]"},
		{"uk mobile", "07700 900123", "[phone]"},
		{"fr pairs", "06 12 34 56 78", "[phone]"},
		{"fr compact", "0612345678", "[phone]"},
		{"card spaces", "card 4111 1111 1111 1111 exp 12/27", "card [card] exp 12/27"},
		{"card dashes", "5500-0000-0000-0004", "[card]"},
		{"card compact", "378282246310005", "[card]"},
		{"card 19", "6011 0009 9013 9424 ", "[card] "},
		{"phone then order id", "+44 20 7946 0958 12345", "[phone] 12345"},
		{"mixed", "Me: ana@x.pt, +351 912 345 678, 4242 4242 4242 4242.", "Me: [email], [phone], [card]."},

		// Left alone.
		{"order id", "order 48213 and #123456", "order 48213 and #123456"},
		{"long order id", "order 98765432", "order 98765432"},
		{"not luhn", "4111 1111 1111 1112", "4111 1111 1111 1112"},
		{"iso date", "on 2026-11-23 at 15:30", "on 2026-11-23 at 15:30"},
		{"eu date", "since 01.02.2026 or 01-02-2026", "since 01.02.2026 or 01-02-2026"},
		{"local 7 digits", "555-1234", "555-1234"},
		{"price", "costs 1,299.00 EUR", "costs 1,299.00 EUR"},
		{"version", "app 2.14.1", "app 2.14.1"},
		{"short intl", "+12 345", "+12 345"},
		{"digits in word", "SKU AB0612345678", "SKU AB0612345678"},
		{"digits then letters", "0612345678abc", "0612345678abc"},
		{"at sign alone", "meet @ noon, @handle", "meet @ noon, @handle"},
		{"ip address", "192.168.100.200", "192.168.100.200"},
		{"empty", "", ""},
		{"unicode", "olá, número 12345 ✓", "olá, número 12345 ✓"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLuhn(t *testing.T) {
	for _, n := range []string{"4111111111111111", "5500000000000004", "378282246310005", "6011000990139424"} {
		if !luhn(n) {
			t.Errorf("luhn(%s) = false", n)
		}
	}
	if luhn("4111111111111112") {
		t.Error("luhn accepted a bad checksum")
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"ana@example.com", "+44 20 7946 0958", "(555) 123-4567", "4111 1111 1111 1111",
		"order 48213", "2026-11-23", "+(", "((((", "+ 1", "0", "a@b.c", "06 12 34 56 78 9",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Redact(s)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Redact(%q) = %q: invalid UTF-8", s, got)
		}
		if again := Redact(got); again != got {
			t.Fatalf("Redact is not idempotent: %q → %q → %q", s, got, again)
		}
		if emailRE.MatchString(got) {
			t.Fatalf("Redact(%q) = %q still holds an email", s, got)
		}
		if !strings.ContainsAny(s, "@+0123456789") && got != s {
			t.Fatalf("Redact(%q) = %q changed text without numbers or emails", s, got)
		}
	})
}
