package consent

import (
	"fmt"
	"time"
)

// Action is what a ledger entry records.
type Action string

// Actions of the consent ledger.
const (
	// OptOut: the customer asked for nothing more on the channel at the
	// address (an SMS's STOP).
	OptOut Action = "opt_out"
	// OptIn: the customer took an opt-out back (an SMS's START).
	OptIn Action = "opt_in"
)

// Limits of an Entry's fields.
const (
	MaxAddressLen   = 64
	MaxMessageIDLen = 200
	MaxDetailLen    = 200
)

// Entry is one entry of a customer's consent ledger: who said what on
// which channel and address, when, and by which message. The ledger is
// append-only; the latest entry of a channel and address is what is in
// force (Entry.Blocks).
type Entry struct {
	// ID is the store's; empty in an entry to record.
	ID string
	// CustomerID is the customer who holds the address; may be empty
	// when nobody does.
	CustomerID string
	// Channel is the router's channel ("sms"); Address the customer's
	// address on it (a phone number in E.164).
	Channel string
	Address string
	Action  Action
	At      time.Time
	// MessageID is the channel's id of the message that said it (an
	// SMS's MessageSid), or of what told us (a provider's refusal of an
	// outbound message); unique in the ledger, so that recording the same
	// message twice records it once.
	MessageID string
	// Detail says how: the keyword the customer wrote ("STOP"), or the
	// provider's word ("OptOutType=STOP", "error 21610").
	Detail string
}

// Blocks reports whether e, the latest entry of its channel and address,
// forbids writing to the address: the customer opted out and has not
// opted in since.
func (e Entry) Blocks() bool { return e.Action == OptOut }

// Validate checks an entry to record.
func (e Entry) Validate() error {
	switch {
	case e.Channel == "":
		return fmt.Errorf("consent: entry: channel is missing")
	case e.Address == "" || len(e.Address) > MaxAddressLen:
		return fmt.Errorf("consent: entry: address: want 1 to %d bytes", MaxAddressLen)
	case e.Action != OptOut && e.Action != OptIn:
		return fmt.Errorf("consent: entry: action %q: want %s or %s", e.Action, OptOut, OptIn)
	case e.MessageID == "" || len(e.MessageID) > MaxMessageIDLen:
		return fmt.Errorf("consent: entry: message id: want 1 to %d bytes", MaxMessageIDLen)
	case len(e.Detail) > MaxDetailLen:
		return fmt.Errorf("consent: entry: detail longer than %d bytes", MaxDetailLen)
	case e.At.IsZero():
		return fmt.Errorf("consent: entry: time is missing")
	}
	return nil
}
