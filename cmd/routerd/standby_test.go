package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/switchboard/switchboard/clientaddr"
	"github.com/switchboard/switchboard/store"
)

// A standby forwards the client the leader would have seen: behind a
// trusted load balancer, the address and scheme the balancer reports;
// from anyone else, the peer itself, whatever its headers claim.
func TestStandbyForwardsTheClient(t *testing.T) {
	got := make(chan clientaddr.Client, 1)
	// The leader trusts the nodes (here loopback), as docs/ha.md asks.
	leaderSide := clientaddr.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- leaderSide.Resolve(r)
	}))
	defer leader.Close()
	l := &leadership{log: slog.New(slog.DiscardHandler), address: "http://standby.invalid",
		clients: clientaddr.New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})} // the load balancers
	l.leader.Store(&store.Lease{Address: leader.URL, Left: 1 << 40})
	h := l.standbyHandler()

	for _, tc := range []struct {
		name, peer, xff, proto string
		want                   clientaddr.Client
	}{
		{"behind the load balancer", "10.0.0.5:4000", "203.0.113.7", "https", clientaddr.Client{Addr: "203.0.113.7", HTTPS: true}},
		{"a client's forged headers", "198.51.100.9:4000", "192.0.2.1", "https", clientaddr.Client{Addr: "198.51.100.9"}},
	} {
		r := httptest.NewRequest("GET", "/api/v1/me", nil)
		r.RemoteAddr = tc.peer
		r.Header.Set("X-Forwarded-For", tc.xff)
		r.Header.Set("X-Forwarded-Proto", tc.proto)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: the standby answered %d: %s", tc.name, w.Code, w.Body)
		}
		if c := <-got; c != tc.want {
			t.Errorf("%s: the leader sees %+v, want %+v", tc.name, c, tc.want)
		}
	}
}
