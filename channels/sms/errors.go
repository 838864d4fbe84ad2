package sms

import "errors"

// Errors of the channel.
var (
	// ErrOptions is wrapped by New's errors.
	ErrOptions = errors.New("sms: bad options")
	// ErrOptedOut is wrapped (with outbox.ErrPermanent) by a send to a
	// number that opted out.
	ErrOptedOut = errors.New("sms: the customer opted out of SMS")
)
