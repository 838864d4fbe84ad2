package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard/switchboard/store"
)

// sessionCheckEvery is how often the sockets' login sessions are checked
// against the store: a session ended where this process does not hear
// of it (routerd passwd, run beside the daemon) closes its sockets
// within it. The API's own logouts and password changes close them at
// once (api.Options.OnSessionsEnded).
const sessionCheckEvery = 5 * time.Second

// sessionHolder holds sockets of login sessions: the agents' hub, the
// dashboards.
type sessionHolder interface {
	// Sessions returns the id and login of each session with a socket.
	Sessions() map[string]string
	// EndSessions closes the sockets of the login's sessions ids.
	EndSessions(login string, ids []string)
}

// checkSessions closes, at every tick, the sockets whose session the
// store no longer holds, until ctx ends.
func checkSessions(ctx context.Context, db *store.DB, holders []sessionHolder, ticks <-chan time.Time, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		// The sockets first, then the store: a session that a socket
		// holds was committed before its socket joined, so the store
		// read after has it (read before, a login just committed could
		// pass for ended).
		sockets := make([]map[string]string, len(holders))
		for i, h := range holders {
			sockets[i] = h.Sessions()
		}
		held, err := db.SessionLogins(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("sessions: check the sockets' sessions; the next check goes on", "err", err)
			}
			continue
		}
		for i, h := range holders {
			for id, login := range sockets[i] {
				if id != "" && held[id] != login {
					log.Info("sessions: a session ended elsewhere; its sockets closed", "login", login, "session", id)
					h.EndSessions(login, []string{id})
				}
			}
		}
	}
}

// startCheckingSessions runs checkSessions every sessionCheckEvery; stop
// ends it and waits for a check in progress.
func startCheckingSessions(db *store.DB, holders []sessionHolder, log *slog.Logger) (stop func()) {
	return runEvery(sessionCheckEvery, func(ctx context.Context, ticks <-chan time.Time) {
		checkSessions(ctx, db, holders, ticks, log)
	})
}
