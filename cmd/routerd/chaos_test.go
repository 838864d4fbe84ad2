package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql's "pgx"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/store/pgtest"
)

// chaosConfig is haConfig with agents of capacity 2: the test checks
// that no takeover lets one hold more.
func chaosConfig(t *testing.T, name string) string {
	t.Helper()
	path := haConfig(t, name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.ReplaceAll(string(b), "capacity: {api: 100}", "capacity: {api: 2}")
	if out == string(b) {
		t.Fatal("writeConfig's capacity changed: update chaosConfig")
	}
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// chaosNode is one routerd of the chaos test, restarted as it dies.
type chaosNode struct {
	name, cfg string
	env       []string
	mu        sync.Mutex
	d         *daemon
	done      <-chan error
}

func (n *chaosNode) start(t *testing.T) {
	t.Helper()
	d := startDaemonEnv(t, n.env, "-config", n.cfg)
	n.mu.Lock()
	n.d, n.done = d, exited(d)
	n.mu.Unlock()
}

func (n *chaosNode) base() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.d.base
}

// chaosCluster is the three nodes.
type chaosCluster struct {
	t     *testing.T
	nodes []*chaosNode
	next  atomic.Uint64
}

// any returns a node's address, in turn: clients spread over the nodes.
func (c *chaosCluster) any() string {
	return c.nodes[c.next.Add(1)%uint64(len(c.nodes))].base()
}

// status says what each node answers on /readyz, and which exited: for
// a failure's message.
func (c *chaosCluster) status() string {
	var out []string
	for _, n := range c.nodes {
		state := "running"
		select {
		case <-n.done:
			state = "exited"
		default:
		}
		code, leader := readyz(c.t, n.base())
		out = append(out, fmt.Sprintf("%s (%s): /readyz %d, leader %q", n.name, state, code, leader))
	}
	return strings.Join(out, "; ")
}

// leader waits until one node answers /readyz 200, and returns it.
func (c *chaosCluster) leader() *chaosNode {
	c.t.Helper()
	var found *chaosNode
	eventually(c.t, "a leader", func() bool {
		for _, n := range c.nodes {
			if code, _ := readyz(c.t, n.base()); code == http.StatusOK {
				found = n
				return true
			}
		}
		return false
	})
	return found
}

// takeover waits until a node other than from leads and returns how long
// that took since began: the takeover as the clients see it.
func (c *chaosCluster) takeover(from *chaosNode, began time.Time) time.Duration {
	c.t.Helper()
	eventually(c.t, "another node leading", func() bool {
		for _, n := range c.nodes {
			if n == from {
				continue
			}
			if code, _ := readyz(c.t, n.base()); code == http.StatusOK {
				return true
			}
		}
		return false
	})
	return time.Since(began)
}

// TestHAChaos runs three nodes on one PostgreSQL under load: API clients
// create contacts through any node (retrying with their idempotency key
// on another node when one fails), agents keep a desktop open through
// any node (reconnecting when it drops) and accept and close what rings.
// The leader is killed (SIGKILL), then stopped past its lease (SIGSTOP,
// then SIGCONT: it must exit without acknowledging a write), then cut
// from the database (its connections terminated). At the end every
// acknowledged contact is in the store once, no idempotency key made two
// contacts, and no agent holds more than its capacity.
func TestHAChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three daemons")
	}
	dsn := pgtest.Database(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	c := &chaosCluster{t: t}
	for _, name := range []string{"node-a", "node-b", "node-c"} {
		n := &chaosNode{name: name, cfg: chaosConfig(t, name),
			// Each node's connections carry its name: the test can cut
			// the leader's.
			env: []string{config.DatabaseURLEnv + "=" + dsn + sep + "application_name=" + name}}
		n.start(t)
		c.nodes = append(c.nodes, n)
	}
	first := c.leader()
	if first != c.nodes[0] {
		t.Fatalf("leader %s, want the first started", first.name)
	}

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var (
		mu    sync.Mutex
		acked = map[string]string{} // idempotency key → contact id
		errs  []string
	)
	// Agents: a desktop open through some node, available.
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(agent string) {
			defer wg.Done()
			for ctx.Err() == nil {
				ws, err := chaosDesktop(c.any(), agent)
				if err != nil {
					select {
					case <-ctx.Done():
					case <-time.After(50 * time.Millisecond): // retry pace of a desktop
					}
					continue
				}
				go func() { <-ctx.Done(); ws.Close() }()
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						break
					}
				}
			}
		}(fmt.Sprintf("a%d", i))
	}
	// Customers: contacts through any node, each retried until acknowledged.
	var created atomic.Int64
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("chaos-%d-%d", w, i)
				for ctx.Err() == nil {
					var cr contactReply
					code, err := chaosCall(c.any(), "POST", "/api/v1/contacts", map[string]any{
						"channel": "api", "queue": "billing", "subject": key,
					}, map[string]string{"Idempotency-Key": key}, &cr)
					if err == nil && (code == http.StatusCreated || code == http.StatusOK) {
						mu.Lock()
						if prev, ok := acked[key]; ok && prev != cr.ID {
							errs = append(errs, fmt.Sprintf("key %s acknowledged as %s and %s", key, prev, cr.ID))
						}
						acked[key] = cr.ID
						mu.Unlock()
						created.Add(1)
						break
					}
				}
			}
		}(w)
	}
	// Agents' hands: accept what rings, close what is held.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			var list struct {
				Agents []struct {
					ID       string   `json:"id"`
					Offer    string   `json:"offer"`
					Contacts []string `json:"contacts"`
				} `json:"agents"`
			}
			base := c.any()
			if code, err := chaosCall(base, "GET", "/api/v1/agents", nil, nil, &list); err != nil || code != http.StatusOK {
				continue
			}
			for _, a := range list.Agents {
				if a.Offer != "" {
					chaosCall(base, "POST", "/api/v1/contacts/"+a.Offer+"/accept", map[string]string{"agent_id": a.ID}, nil, nil)
				}
				for _, id := range a.Contacts {
					chaosCall(base, "POST", "/api/v1/contacts/"+id+"/close", map[string]string{"agent_id": a.ID}, nil, nil)
				}
			}
		}
	}()

	// waitProgress waits until n more contacts were acknowledged.
	waitProgress := func(n int64) {
		t.Helper()
		target := created.Load() + n
		deadline := time.Now().Add(emailWait)
		for created.Load() < target {
			if time.Now().After(deadline) {
				t.Fatalf("%d contacts acknowledged, want %d within %s; the nodes: %s", created.Load(), target, emailWait, c.status())
			}
			time.Sleep(20 * time.Millisecond) // polling the clients' progress
		}
	}
	restart := func(n *chaosNode) {
		t.Helper()
		if err := <-n.done; err == nil {
			t.Errorf("%s exited cleanly, want an error exit", n.name)
		}
		n.start(t)
	}
	waitProgress(50)

	// 1. SIGKILL the leader.
	l := c.leader()
	began := time.Now()
	l.d.cmd.Process.Signal(syscall.SIGKILL)
	took := []time.Duration{c.takeover(l, began)}
	restart(l) // it may win the lease again: any node may
	waitProgress(50)

	// 2. SIGSTOP the leader past its lease, then SIGCONT.
	l = c.leader()
	began = time.Now()
	l.d.cmd.Process.Signal(syscall.SIGSTOP)
	took = append(took, c.takeover(l, began))
	waitProgress(50)
	l.d.cmd.Process.Signal(syscall.SIGCONT)
	restart(l)
	waitProgress(50)

	// 3. Cut the leader from the database.
	l = c.leader()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var killed int
	if err := db.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, l.name).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Errorf("no connection of %s to terminate", l.name)
	}
	// The cut leader stops at its next write or renewal; another, or
	// itself restarted, leads.
	waitProgress(50)
	t.Logf("takeovers under load, from the fault to another node's /readyz 200: SIGKILL %s, SIGSTOP %s",
		took[0].Round(time.Millisecond), took[1].Round(time.Millisecond))

	stop()
	wg.Wait()
	// A node the cut stopped is restarted, to read the end state.
	for _, n := range c.nodes {
		select {
		case <-n.done:
			n.start(t)
		default:
		}
	}
	final := c.leader().base()
	mu.Lock()
	defer mu.Unlock()
	for _, e := range errs {
		t.Error(e)
	}
	stored := chaosContacts(t, final)
	bySubject := map[string][]string{}
	for _, ct := range stored {
		bySubject[ct.Subject] = append(bySubject[ct.Subject], ct.ID)
	}
	for key, id := range acked {
		if ids := bySubject[key]; len(ids) != 1 || ids[0] != id {
			t.Errorf("acknowledged %s (%s): in the store as %v", key, id, ids)
		}
	}
	for key, ids := range bySubject {
		if len(ids) > 1 {
			t.Errorf("key %s made %d contacts: %v", key, len(ids), ids)
		}
	}
	held := map[string]int{}
	for _, ct := range stored {
		if ct.State == "assigned" || ct.State == "wrapup" {
			held[ct.AgentID]++
		}
	}
	for agent, n := range held {
		if n > 2 {
			t.Errorf("%s holds %d contacts, capacity 2", agent, n)
		}
	}
	t.Logf("%d contacts acknowledged, %d stored, %d connections cut", len(acked), len(stored), killed)
}

// chaosClient and chaosDialer give up on a node that does not answer
// (it may be stopped): the client then tries another, as real ones do.
var (
	chaosClient = &http.Client{Timeout: 2 * time.Second}
	chaosDialer = &websocket.Dialer{HandshakeTimeout: 2 * time.Second}
)

// chaosCall is call through chaosClient.
func chaosCall(base, method, path string, body any, headers map[string]string, out any) (int, error) {
	return requestWith(chaosClient, testAdminToken, base, method, path, body, headers, out)
}

// chaosDesktop signs agent in through base and opens its desktop socket
// there; the agent is then made available.
func chaosDesktop(base, agent string) (*websocket.Conn, error) {
	var session struct {
		Token string `json:"token"`
	}
	if code, err := chaosCall(base, "POST", "/api/v1/login", map[string]string{"id": agent, "password": crashAgentPassword}, nil, &session); err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("login: %d %v", code, err)
	}
	ws, _, err := chaosDialer.Dial(strings.Replace(base, "http", "ws", 1)+"/ws/agent",
		http.Header{"Authorization": {"Bearer " + session.Token}})
	if err != nil {
		return nil, err
	}
	// The desktop counts as connected once its snapshot is sent: only
	// then may the agent be made available.
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, msg, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(msg), `{"type":"snapshot"`) {
		ws.Close()
		return nil, fmt.Errorf("desktop's first frame %.40q: %v", msg, err)
	}
	ws.SetReadDeadline(time.Time{})
	if code, err := chaosCall(base, "PUT", "/api/v1/agents/"+agent+"/state", map[string]string{"state": "available"}, nil, nil); err != nil || code != http.StatusOK {
		ws.Close()
		return nil, errors.Join(err, fmt.Errorf("available: %d", code))
	}
	return ws, nil
}

// chaosContact is what the test reads of a stored contact.
type chaosContact struct {
	ID      string `json:"id"`
	Subject string `json:"subject"`
	State   string `json:"state"`
	AgentID string `json:"agent_id"`
}

// chaosContacts lists every contact, page by page.
func chaosContacts(t *testing.T, base string) []chaosContact {
	t.Helper()
	var out []chaosContact
	cursor := ""
	for {
		var page struct {
			Contacts []chaosContact `json:"contacts"`
			Next     string         `json:"next"`
		}
		path := "/api/v1/contacts?limit=500"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		if code, err := chaosCall(base, "GET", path, nil, nil, &page); err != nil || code != http.StatusOK {
			t.Fatalf("list contacts: %d %v", code, err)
		}
		out = append(out, page.Contacts...)
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}
