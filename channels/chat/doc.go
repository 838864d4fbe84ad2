// Package chat is the web chat channel: the customer's WebSocket
// (/ws/chat), a standalone chat page (/chat/) and an embeddable widget
// (/chat/widget.js) that a firm puts on its own site with one script tag.
//
// A customer fills in a pre-chat form (name, optionally email or phone, a
// topic); the topic maps to a queue, and the channel submits a contact on
// channel "chat" to the router. The customer gets a signed token scoped to
// that one conversation, kept in the browser's localStorage, with which a
// reload or a reconnection resumes the conversation and its history from
// the store. Every customer message is committed through the router before
// the widget hears "ack"; the agent's replies reach the customer from the
// router's notifications, which come only after their commit.
//
// The channel is wired by the daemon:
//
//	ch, err := chat.New(chat.Options{
//		Router: r, Store: db, Secret: secret,
//		Topics:         []chat.Topic{{ID: "billing", Label: "Billing", Queue: "billing"}},
//		AllowedOrigins: []string{"https://www.example.com"},
//	})
//	defer ch.Close()
//	// the router's Options.Notifier must include ch (router.Notifiers(hub, ch))
//	mux.Handle("/ws/chat", ch.Handler())
//	mux.Handle("/chat/", ch.Handler())
//
// The wire protocol is in docs/chat-protocol.md. A Channel is safe for
// concurrent use.
package chat
