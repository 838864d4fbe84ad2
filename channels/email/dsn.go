package email

import (
	"bufio"
	"bytes"
	"strings"
)

// parseDSN reads a message/delivery-status part (RFC 3464) into r (a
// new Report when nil): the first recipient's address, action, status
// and diagnostic.
func parseDSN(body []byte, r *Report) *Report {
	if r == nil {
		r = &Report{}
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "action":
			if r.Action == "" {
				r.Action = strings.ToLower(truncate(v, 20))
			}
		case "status":
			if r.Status == "" {
				r.Status = truncate(v, 20)
			}
		case "diagnostic-code":
			if r.Diagnostic == "" {
				r.Diagnostic = truncate(v, 500)
			}
		case "final-recipient":
			// "rfc822; ada@example.com"
			if typ, addr, ok := strings.Cut(v, ";"); ok && r.Recipient == "" && strings.EqualFold(strings.TrimSpace(typ), "rfc822") {
				r.Recipient = truncate(strings.Trim(strings.TrimSpace(addr), "<>"), 320)
			}
		}
	}
	return r
}
