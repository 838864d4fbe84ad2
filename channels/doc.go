// Package channels will hold the channel adapters, one subpackage each:
// chat (the customer's widget and its WebSocket, issue #4), email (IMAP
// and SMTP) and sms (Twilio). Each turns what arrives into a
// router.NewContact or a router.Message, commits it through the router
// before acknowledging the channel, and never leaks its protocol's types.
// Today the "api" channel is the only one: integrations create contacts
// with POST /api/v1/contacts (package api).
package channels
