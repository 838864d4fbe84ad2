package main

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/store"
)

// holder is a sessionHolder that records what it was told to end.
type holder struct {
	sessions map[string]string
	mu       sync.Mutex
	ended    []string // login/id; guarded by mu
}

func (h *holder) Sessions() map[string]string { return h.sessions }

func (h *holder) EndSessions(login string, ids []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		h.ended = append(h.ended, login+"/"+id)
	}
}

// A check ends the sockets' sessions the store does not hold, and those
// it holds for another login; it leaves the others open.
func TestCheckSessions(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, t.TempDir())
	at := time.Now()
	for _, s := range []struct{ hash, login string }{{strings.Repeat("a", 64), "dave"}, {strings.Repeat("c", 64), "sam"}} {
		if err := db.CreateSession(ctx, store.Session{TokenHash: s.hash, LoginID: s.login, Role: "agent", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	desks := &holder{sessions: map[string]string{
		strings.Repeat("a", 16): "dave",  // held
		strings.Repeat("b", 16): "carol", // ended elsewhere
	}}
	boards := &holder{sessions: map[string]string{
		strings.Repeat("c", 16): "eve", // the store's is sam's
	}}
	ticks := make(chan time.Time)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		checkSessions(cctx, db, []sessionHolder{desks, boards}, ticks, slog.New(slog.DiscardHandler))
	}()
	ticks <- at
	ticks <- at // taken once the first check is done
	cancel()
	<-done
	// The second check may have run, or stopped at the cancel: either
	// way it ends what the first did.
	if got, want := slices.Compact(desks.ended), []string{"carol/" + strings.Repeat("b", 16)}; !slices.Equal(got, want) {
		t.Errorf("the desktops' sessions ended: %v, want carol's, never dave's", desks.ended)
	}
	if got, want := slices.Compact(boards.ended), []string{"eve/" + strings.Repeat("c", 16)}; !slices.Equal(got, want) {
		t.Errorf("the dashboards' sessions ended: %v, want eve's (the store's is sam's)", boards.ended)
	}
}
