// Package channels holds the channel adapters, one subpackage each: chat
// (the customer's page, widget and WebSocket), sms (Twilio's webhooks in,
// twilio-go out), and later email (IMAP and SMTP). Each turns what arrives into a router.NewContact
// or a router.Message, commits it through the router before acknowledging
// the channel, and never leaks its protocol's types. Integrations use the
// "api" channel: POST /api/v1/contacts (package api).
package channels
