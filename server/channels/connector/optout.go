package connector

import (
	"strings"
	"unicode"
)

// The keywords a contact opts out or back in with: the carriers' standard
// English set (as Twilio and the CTIA guidelines list them) and common
// equivalents in Spanish, Portuguese, French, German and Italian. "YES",
// which carriers also accept to opt in, is left out: in a support
// conversation it almost always answers a question.
var (
	optOutKeywords = []string{
		"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "OPT-OUT", "OPT OUT",
		"BAJA", "PARAR", "ALTO", "CANCELAR", "SAIR", "ARRET", "ARRÊT", "DESABONNER", "DÉSABONNER",
		"STOPP", "ABMELDEN", "ANNULLA", "DISISCRIVITI",
	}
	optInKeywords = []string{"START", "UNSTOP", "RESUME", "OPTIN", "OPT-IN", "OPT IN", "ALTA", "INICIAR", "REPRENDRE", "ANMELDEN"}
)

// OptOutKeyword reports whether text is an opt-out (optOut true) or
// opt-in keyword and which, in upper case. Only a message that is the
// keyword alone counts, whatever its case and surrounding punctuation or
// spaces: "Stop." opts out, "please stop calling me" does not (an agent
// can record that one through the API).
func OptOutKeyword(text string) (optOut bool, keyword string, ok bool) {
	t := strings.TrimFunc(text, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
	if len(t) > 16 {
		return false, "", false
	}
	t = strings.ToUpper(strings.Join(strings.Fields(t), " "))
	for _, k := range optOutKeywords {
		if t == k {
			return true, k, true
		}
	}
	for _, k := range optInKeywords {
		if t == k {
			return false, k, true
		}
	}
	return false, "", false
}
