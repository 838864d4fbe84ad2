// Package sms is the SMS channel, through Twilio: customers text the
// firm's numbers, each conversation is routed like any other contact,
// and agents answer by SMS.
//
// Inbound, Twilio posts each text to POST /webhooks/twilio/sms. The
// request is authenticated by its X-Twilio-Signature, computed here over
// the configured public URL and the path and query as received, and every
// form parameter, repeated ones included (Signature); a JSON body is
// checked against its bodySHA256 too. The text is committed (a message
// whose ExternalID is its MessageSid, so that Twilio's retry never makes
// a second one) before the webhook answers with empty TwiML. Texts from
// one number are handled one at a time, in arrival order: a number with a
// live SMS contact joins it, one whose last contact ended starts a
// follow-up of it (package intake), others a new contact on the queue of
// the number they wrote to (Route). The sending number is the customer's
// verified identity. STOP and the other opt-out keywords record an
// opt-out in the consent ledger (package consent), START takes it back,
// HELP is answered with the configured text (consent.KeywordOf).
//
// Outbound, the Channel is the outbox's Sender of the channel (an
// outbox.IDSender): it creates each message through twilio-go's Messages
// API with a status callback, and its MessageSid becomes the message's
// ExternalID. Twilio's reports on POST /webhooks/twilio/status move the
// delivery status forward only (router.DeliveryStatus.Advances). A number
// that opted out gets nothing: CheckReply refuses the agent's reply, the
// sender refuses what was queued before, and Twilio's error 21610 records
// the opt-out it tells of.
//
// The channel is wired by the daemon:
//
//	ch, err := sms.New(sms.Options{Router: rt, Store: db, Intake: in,
//		AccountSID: sid, AuthToken: token, PublicURL: "https://contact.example.com",
//		Routes: []sms.Route{{Queue: "support", From: "+15550001111"}}})
//	mux.Handle("POST "+sms.InboundPath, ch.Handler())
//	mux.Handle("POST "+sms.StatusPath, ch.Handler())
//	// ch is the outbox's sender of router.ChannelSMS, and follows the
//	// router's event stream (router.Follow) to learn which of its
//	// messages the store names.
//
// Setup and the choices made are in docs/sms.md. A Channel is safe for
// concurrent use.
package sms
