// Package api is Switchboard's HTTP JSON API: agents, queues and contacts
// over the router, reads of history from the store, bearer-token
// authentication with three roles, password logins whose sessions act as
// an agent or a supervisor, and the health endpoints.
//
// Build one Server at start-up, after the router has started, and serve
// it:
//
//	h, err := api.New(api.Options{
//		Router:          rt,     // started *router.Router
//		Store:           db,     // the *store.DB the router commits to
//		Tokens:          tokens, // every bearer token, the admin token too
//		Logger:          log,
//		Queues:          dashboards.Source{Router: rt, Store: db}.Queues, // optional
//		Sessions:        &api.SessionOptions{TTL: 12 * time.Hour},        // optional
//		OnSessionsEnded: hub.EndSessions,                                   // optional
//		ScreenPop:       screenPop,                                        // optional
//	})
//	if err != nil {
//		return err
//	}
//	srv := &http.Server{Addr: cfg.Listen, Handler: h}
//
// Shut the http.Server down before closing the router, so that no request
// is in flight when the router stops.
//
// Every route under /api/ but POST /api/v1/login needs "Authorization:
// Bearer <token>" (a configured token or a session's) or the sb_session
// cookie of a login; Authenticate does the same for other handlers, such
// as the agent WebSocket. Request and response bodies are JSON; errors
// are
//
//	{"error":{"code":"not_found","message":"agent \"bob\" does not exist"}}
//
// docs/api.md describes every endpoint, its role, and its shapes.
//
// A Server is safe for concurrent use.
package api
