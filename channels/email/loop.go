package email

import (
	"strings"
)

// Automatic returns why m was sent by a machine rather than a person (RFC
// 3834 and the common practice around it), "" for a person's mail. Such
// mail is taken in like any other but never answered automatically.
func Automatic(m *Mail) string {
	first := func(k string) string {
		if v := m.Header[k]; len(v) > 0 {
			return strings.ToLower(strings.TrimSpace(v[0]))
		}
		return ""
	}
	if v := first("Auto-Submitted"); v != "" && v != "no" {
		return "Auto-Submitted: " + v
	}
	switch v := first("Precedence"); v {
	case "bulk", "junk", "list", "auto_reply":
		return "Precedence: " + v
	}
	if v := first("X-Auto-Response-Suppress"); v != "" {
		return "X-Auto-Response-Suppress: " + v
	}
	if first("X-Autoreply") != "" || first("X-Autorespond") != "" {
		return "X-Autoreply"
	}
	if len(m.Header["List-Id"]) > 0 || len(m.Header["List-Unsubscribe"]) > 0 {
		return "mailing list"
	}
	if rp, ok := m.Header["Return-Path"]; ok && len(rp) > 0 && strings.Trim(strings.TrimSpace(rp[0]), "<>") == "" {
		return "null return path"
	}
	local, _, _ := strings.Cut(strings.ToLower(m.From.Address), "@")
	switch local {
	case "mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply":
		return "sender " + local
	}
	if ct := first("Content-Type"); strings.HasPrefix(ct, "multipart/report") {
		return "delivery or read report"
	}
	if m.Report != nil && m.Report.Action != "" {
		return "delivery report"
	}
	return ""
}
