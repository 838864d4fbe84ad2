package consent

import "strings"

// Keyword is what a whole text message asks of us, when it is one of
// the carriers' keywords: the SMS channel records an opt-out or an
// opt-in in the ledger for it, and the offers of the sender's contact
// are looked at again.
type Keyword int

// Keywords. A message is a keyword only when it is the whole message,
// trimmed, in any case: "stop" is, "Please stop" is not.
const (
	NoKeyword Keyword = iota
	// KeywordStop opts the number out: nothing more goes to it by SMS.
	KeywordStop
	// KeywordStart takes an opt-out back.
	KeywordStart
	// KeywordHelp asks who we are: answered with the configured text.
	KeywordHelp
)

// keywords are the carriers' and Twilio's standard keywords.
var keywords = map[string]Keyword{
	"STOP": KeywordStop, "STOPALL": KeywordStop, "UNSUBSCRIBE": KeywordStop,
	"CANCEL": KeywordStop, "END": KeywordStop, "QUIT": KeywordStop,
	"REVOKE": KeywordStop, "OPTOUT": KeywordStop,
	"START": KeywordStart, "YES": KeywordStart, "UNSTOP": KeywordStart,
	"HELP": KeywordHelp, "INFO": KeywordHelp,
}

// KeywordOf returns the keyword that body is, and the keyword as
// written (upper case), or NoKeyword.
func KeywordOf(body string) (Keyword, string) {
	w := strings.ToUpper(strings.TrimSpace(body))
	if len(w) > len("UNSUBSCRIBE") {
		return NoKeyword, ""
	}
	if k, ok := keywords[w]; ok {
		return k, w
	}
	return NoKeyword, ""
}
