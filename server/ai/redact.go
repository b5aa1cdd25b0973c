package ai

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Placeholders Redact puts in place of what it masks.
const (
	MaskEmail = "[email]"
	MaskPhone = "[phone]"
	MaskCard  = "[card]"
)

var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

// Redact masks email addresses, phone numbers and payment card numbers in s,
// so that a prompt can leave the server without them.
//
// Masked as [phone]: numbers written with a leading "+" or "00" and 8 to 15
// digits (+44 20 7946 0958, +1 (555) 123-4567, 0049 30 123456); North
// American numbers grouped 3-3-4 ((555) 123-4567, 555.123.4567); national
// numbers starting with 0 with 9 to 11 digits (020 7946 0958, 07700 900123,
// 06 12 34 56 78, 0612345678). Masked as [card]: 13 to 19 digits, optionally
// grouped by spaces or dashes, that pass the Luhn check.
//
// Deliberately left alone: order and ticket numbers (a run of digits not
// starting with 0, such as 123456 or 98765432), dates (2026-11-23,
// 01.02.2026), times, prices, versions, and 7-digit local numbers (555-1234),
// which cannot be told from order numbers without context.
func Redact(s string) string {
	if s == "" {
		return s
	}
	s = emailRE.ReplaceAllString(s, MaskEmail)
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == '+' || r == '(' || isDigit(r)) && !wordBefore(s, i) {
			if end, mask := matchNumber(s, i); end > i {
				b.WriteString(s[last:i])
				b.WriteString(mask)
				last, i = end, end
				continue
			}
		}
		// Skip the rest of a word or number so matches start on a boundary.
		i += size
		if isWord(r) {
			for i < len(s) {
				r, size := utf8.DecodeRuneInString(s[i:])
				if !isWord(r) {
					break
				}
				i += size
			}
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

func wordBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return i > 0 && isWord(r)
}

// group is one run of digits in a candidate number.
type group struct {
	end    int // byte offset just past the group (and its closing parenthesis)
	digits string
	paren  bool
}

// numberGroups reads digit groups from s[i:], separated by at most one of
// space, dash or dot (or by parentheses), optionally led by '+'.
func numberGroups(s string, i int) (plus bool, groups []group) {
	if s[i] == '+' {
		plus = true
		i++
	}
	for len(groups) < 8 && i < len(s) {
		j := i
		paren := false
		if s[j] == '(' {
			paren = true
			j++
		}
		k := j
		for k < len(s) && isDigit(rune(s[k])) && k-j < 19 {
			k++
		}
		if k == j || (paren && (k >= len(s) || s[k] != ')')) {
			break
		}
		g := group{digits: s[j:k], paren: paren, end: k}
		if paren {
			g.end = k + 1
		}
		groups = append(groups, g)
		i = g.end
		if i < len(s) && (s[i] == ' ' || s[i] == '-' || s[i] == '.') && i+1 < len(s) && (isDigit(rune(s[i+1])) || s[i+1] == '(') {
			// A dot joins groups only for "+" and 3-3-4 numbers; the
			// shape checks below decide.
			i++
			continue
		}
		if paren && i < len(s) && isDigit(rune(s[i])) {
			continue // "(0)20", "(555)123-4567"
		}
		break
	}
	return plus, groups
}

// matchNumber reports the end of a phone or card number starting at s[i]
// and its mask, or end == i if there is none. The end must fall on a word
// boundary.
func matchNumber(s string, i int) (int, string) {
	plus, groups := numberGroups(s, i)
	if len(groups) == 0 {
		return i, ""
	}
	boundary := func(end int) bool {
		r, _ := utf8.DecodeRuneInString(s[end:])
		return end >= len(s) || !isWord(r)
	}
	// Prefix digit totals, so trailing numbers (an order id after a phone
	// number) are not swallowed.
	total := make([]int, len(groups))
	all := ""
	for n, g := range groups {
		all += g.digits
		total[n] = len(all)
	}
	seps := func(n int) bool { // only spaces and dashes between groups 0..n
		for m := 1; m <= n; m++ {
			c := s[groups[m-1].end]
			if groups[m].paren || groups[m-1].paren || (c != ' ' && c != '-') {
				return false
			}
		}
		return true
	}
	// Cards first: the longest Luhn-valid prefix of 13 to 19 digits.
	if !plus && !groups[0].paren {
		for n := len(groups) - 1; n >= 0; n-- {
			if total[n] >= 13 && total[n] <= 19 && seps(n) && boundary(groups[n].end) && luhn(all[:total[n]]) {
				return groups[n].end, MaskCard
			}
		}
	}
	if plus || strings.HasPrefix(groups[0].digits, "00") {
		for n := len(groups) - 1; n >= 0; n-- {
			d := total[n]
			if !plus {
				d -= 2 // the "00" stands for "+"
			}
			if d >= 8 && d <= 15 && boundary(groups[n].end) {
				return groups[n].end, MaskPhone
			}
		}
		return i, ""
	}
	// North American 3-3-4: (555) 123-4567, 555-123-4567, 555.123.4567.
	if len(groups) >= 3 && len(groups[0].digits) == 3 && len(groups[1].digits) == 3 && len(groups[2].digits) == 4 &&
		!groups[1].paren && !groups[2].paren && boundary(groups[2].end) {
		return groups[2].end, MaskPhone
	}
	// National numbers with a trunk 0: 9 to 11 digits, spaces or dashes.
	if groups[0].digits[0] == '0' && !dateLike(groups) {
		for n := len(groups) - 1; n >= 0; n-- {
			if total[n] >= 9 && total[n] <= 11 && (n == 0 || seps(n)) && boundary(groups[n].end) {
				return groups[n].end, MaskPhone
			}
		}
	}
	return i, ""
}

// dateLike reports groups shaped like a date: 01-02-2026 or 2026-01-02.
func dateLike(groups []group) bool {
	if len(groups) < 3 {
		return false
	}
	a, b, c := len(groups[0].digits), len(groups[1].digits), len(groups[2].digits)
	return (a <= 2 && b <= 2 && c == 4) || (a == 4 && b <= 2 && c <= 2)
}

// luhn reports whether the digit string passes the Luhn checksum.
func luhn(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
