package offers

import "github.com/switchboard/switchboard/consent"

// Env is what an eligibility expression sees: the customer and the
// contact. Expressions use the lowercase names of the expr tags, e.g.
//
//	customer.segment == "premium" && "savings" not in customer.products
//	contact.channel in ["chat", "email"] && customer.value >= 1000
type Env struct {
	Customer CustomerView `expr:"customer"`
	Contact  ContactView  `expr:"contact"`
}

// CustomerView is the part of a customer's profile offers may use.
type CustomerView struct {
	Segment  string        `expr:"segment"`
	Value    float64       `expr:"value"`
	Products []string      `expr:"products"`
	Tags     []string      `expr:"tags"`
	Language string        `expr:"language"`
	Consent  consent.Flags `expr:"consent"`
	// SMSOptOut is true when the customer asked for no marketing by SMS.
	SMSOptOut bool `expr:"sms_opt_out"`
	// SMSStopped is true when the customer texted STOP (the consent
	// ledger's opt-out is in force for one of their numbers, or for the
	// number of the contact): nothing more may go to them by SMS, and no
	// offer is made to them at all.
	SMSStopped bool `expr:"sms_stopped"`
	// RecentComplaint is true when one of the customer's contacts ended
	// with a complaint disposition within Rules.RecentComplaint.
	RecentComplaint bool `expr:"recent_complaint"`
}

// ContactView is the part of a contact offers may use.
type ContactView struct {
	Channel     string `expr:"channel"`
	Queue       string `expr:"queue"`
	Subject     string `expr:"subject"`
	Disposition string `expr:"disposition"`
	// FirstMessage is the customer's first message, searched for
	// complaint keywords; empty if none.
	FirstMessage string `expr:"first_message"`
	// CustomerMessages are the bodies of every message of the customer
	// during the contact so far (the first among them), all searched for
	// complaint keywords: a complaint typed later withholds offers too.
	CustomerMessages []string `expr:"customer_messages"`
}
