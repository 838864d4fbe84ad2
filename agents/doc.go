// Package agents is the agent desktop's server side: the agent WebSocket
// (GET /ws/agent, specified in docs/protocol.md) and the screen pop.
//
// A Hub serves the socket and is the router's Notifier for agents: what
// the router decides about an agent (an offer, a withdrawal, a message on
// one of its contacts, a state change) reaches that agent's sockets, and
// no other agent's, as numbered messages after a first snapshot. Requests
// on the socket (accept, send, wrapup, ...) become router commands made
// as the socket's agent.
//
//	var hub *agents.Hub
//	rt, _ := router.New(db, &router.Options{Notifier: router.Notifiers(
//		router.NotifierFunc(func(ns []router.Notification) { hub.Notify(ns) }),
//	), AwayReasons: cfg.Desktop.AwayReasons}) // the router holds the desktop to them
//	hub, err := agents.NewHub(&agents.Options{
//		Router: rt, Store: db,
//		Authenticate: sessions.AgentSession, // the API's session check
//		Dispositions: cfg.Desktop.Dispositions, AwayReasons: cfg.Desktop.AwayReasons,
//		AllowedOrigins: cfg.Desktop.AllowedOrigins,
//	})
//	_ = rt.Start(ctx) // after the hub exists: notifications start here
//	mux.Handle("GET /ws/agent", hub)
//	srv.RegisterOnShutdown(hub.Close)
//
// The screen pops it delivers are built by package screenpop
// (Options.ScreenPops), which the HTTP API uses too for CRM integrations.
//
// Notify never blocks the router: notifications are queued per agent and
// turned into messages (screen pops read the store) by the hub's own
// goroutines. Each socket has one reader and one writer goroutine; a
// socket too slow to take its messages is dropped and resumes on
// reconnect from its last sequence number.
//
// A Hub is safe for concurrent use.
package agents
