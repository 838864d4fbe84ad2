package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/clientaddr"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/store"
)

// leadership is this node's part in the leader's lease (docs/ha.md):
// PostgreSQL deployments run one or more nodes, of which the lease's
// holder routes and the others stand by, proxying to it.
type leadership struct {
	db  *store.DB
	log *slog.Logger
	ha  config.HA
	// holder is this process in the lease: the node's name and a random
	// instance, so that a restarted node is a new holder (a new epoch).
	holder string
	// address is where the other nodes reach this one.
	address string
	// epoch is the lease's epoch once acquired.
	epoch int64
	// deadline is when the lease runs out unless renewed, on this
	// process's monotonic clock: the time before the statement that
	// last acquired or renewed it, plus the lease.
	deadline time.Time
	// leader is the lease as a standby last read it (*store.Lease).
	leader atomic.Pointer[store.Lease]
	// clients resolves who sent a request a standby forwards, behind
	// trusted_proxies as the leader would.
	clients *clientaddr.Resolver
}

// errLeaseLost ends a leader that could not renew its lease in time.
var errLeaseLost = errors.New("the leader's lease ran out unrenewed")

// newLeadership names this node; address is its listener's, used unless
// ha.advertise_url says otherwise.
func newLeadership(cfg *config.Config, db *store.DB, ln net.Addr, log *slog.Logger) (*leadership, error) {
	node := cfg.HA.Node
	if node == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("ha.node is not set and the host has no name: %w", err)
		}
		node = h
	}
	raw := make([]byte, 4)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	addr := cfg.HA.AdvertiseURL
	if addr == "" {
		host, port, err := net.SplitHostPort(ln.String())
		if err != nil {
			return nil, err
		}
		if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
			// Listening on every address: the node's name is the
			// best guess; ha.advertise_url says better.
			host = node
		}
		scheme := "http"
		if cfg.TLS.Enabled() {
			scheme = "https"
		}
		addr = scheme + "://" + net.JoinHostPort(host, port)
	}
	return &leadership{db: db, log: log, ha: cfg.HA, holder: node + "/" + hex.EncodeToString(raw), address: addr,
		clients: clientaddr.New(cfg.TrustedPrefixes())}, nil
}

// try attempts once to take the lease. When another holds it, the
// standby handler learns where to proxy.
func (l *leadership) try(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, l.ha.RetryTimeout.D())
	defer cancel()
	start := time.Now()
	cur, ok, err := l.db.AcquireLease(ctx, store.LeaderLease, l.holder, l.address, l.ha.Lease.D())
	if err != nil {
		return false, err
	}
	if ok {
		l.epoch, l.deadline = cur.Epoch, start.Add(l.ha.Lease.D())
		return true, l.db.Fence(l.holder, cur.Epoch)
	}
	prev := l.leader.Swap(&cur)
	if prev == nil || prev.Holder != cur.Holder {
		l.log.Info("standing by", "leader", cur.Holder, "leader_address", cur.Address, "epoch", cur.Epoch)
	}
	return false, nil
}

// acquire tries to take the lease every ha.renew until it does or ctx
// ends.
func (l *leadership) acquire(ctx context.Context) error {
	t := time.NewTicker(l.ha.Renew.D())
	defer t.Stop()
	for {
		ok, err := l.try(ctx)
		if err != nil {
			l.log.Warn("ha: take the lease", "err", err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// keep renews the lease every ha.renew until ctx ends. It returns an
// error when the lease is lost: another took it (store.ErrFenced), or it
// ran out unrenewed (errLeaseLost). Then this process must stop at once:
// the store refuses its writes already, and its other effects (intake,
// sends) must end too.
func (l *leadership) keep(ctx context.Context) error {
	tick := time.NewTicker(l.ha.Renew.D())
	defer tick.Stop()
	expire := time.NewTimer(time.Until(l.deadline))
	defer expire.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-expire.C:
			return errLeaseLost
		case <-tick.C:
		}
		if !time.Now().Before(l.deadline) {
			// Woken late (the process was stopped): the lease may be
			// another's by now, whatever the renewal would say.
			return errLeaseLost
		}
		start := time.Now()
		rctx, cancel := context.WithTimeout(ctx, l.ha.RetryTimeout.D())
		err := l.db.RenewLease(rctx, store.LeaderLease, l.holder, l.epoch, l.ha.Lease.D())
		cancel()
		switch {
		case errors.Is(err, store.ErrFenced):
			return err
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			l.log.Warn("ha: renew the lease", "err", err, "left", time.Until(l.deadline).Round(time.Millisecond))
		default:
			l.deadline = start.Add(l.ha.Lease.D())
			expire.Reset(time.Until(l.deadline))
		}
	}
}

// release ends the lease at once, so that a standby takes over without
// waiting for it to run out: the last step of a graceful stop.
func (l *leadership) release() {
	ctx, cancel := context.WithTimeout(context.Background(), l.ha.RetryTimeout.D())
	defer cancel()
	if err := l.db.ReleaseLease(ctx, store.LeaderLease, l.holder, l.epoch); err != nil {
		l.log.Warn("ha: release the lease", "err", err)
		return
	}
	l.log.Info("released the lead", "epoch", l.epoch)
}

// standbyHandler serves a node that does not lead: /healthz answers, and
// /readyz says 503 and names the leader, for load balancers; every other
// request, WebSockets included, is proxied to the leader, so that a
// client reaching any node is served. (A redirect would not do: browsers
// follow none for a WebSocket, and the Twilio webhook's signature names
// the public URL, not a node.) The standby resolves the client as the
// leader would (its address and whether it came over HTTPS, behind
// trusted_proxies) and says it in X-Forwarded-For and -Proto, which the
// leader believes when the nodes are among trusted_proxies (docs/ha.md):
// the load balancer's own headers are the standby's to read, and would
// otherwise be dropped, every client then the load balancer.
func (l *leadership) standbyHandler() http.Handler {
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			target, _ := url.Parse(pr.In.Context().Value(leaderKey{}).(string))
			pr.SetURL(target)
			pr.SetXForwarded()
			client := l.clients.Resolve(pr.In)
			pr.Out.Header.Set("X-Forwarded-For", client.Addr)
			if client.HTTPS {
				pr.Out.Header.Set("X-Forwarded-Proto", "https")
			}
			// The client's Host, for the leader's same-origin checks.
			pr.Out.Host = pr.In.Host
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			l.log.Warn("ha: proxy to the leader", "err", err, "path", r.URL.Path)
			unavailable(w, "the leader does not answer", "")
		},
		ErrorLog: slog.NewLogLogger(l.log.Handler(), slog.LevelWarn),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := l.leader.Load()
		leader := ""
		if cur != nil && cur.Left > 0 && cur.Address != l.address {
			leader = cur.Address
		}
		switch r.URL.Path {
		case "/healthz":
			writeJSONResponse(w, http.StatusOK, map[string]string{"status": "ok", "role": "standby"})
			return
		case "/readyz":
			unavailable(w, "standby", leader)
			return
		}
		if leader == "" {
			unavailable(w, "no leader yet: a node is taking over", "")
			return
		}
		proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), leaderKey{}, leader)))
	})
}

// leaderKey carries the leader's address from the handler to the
// proxy's Rewrite.
type leaderKey struct{}

// unavailable answers 503 saying why, and the leader's address if known.
func unavailable(w http.ResponseWriter, status, leader string) {
	w.Header().Set("Retry-After", "1")
	body := map[string]string{"status": status}
	if leader != "" {
		body["leader"] = leader
	}
	writeJSONResponse(w, http.StatusServiceUnavailable, body)
}

func writeJSONResponse(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// swapHandler serves whichever handler was set last: the standby's until
// the node leads, then the daemon's routes.
type swapHandler struct{ h atomic.Pointer[http.Handler] }

func (s *swapHandler) set(h http.Handler) { s.h.Store(&h) }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}
