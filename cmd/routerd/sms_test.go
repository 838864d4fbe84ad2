package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/config"
)

// TestSMSThroughRouterd runs the SMS channel as routerd wires it, in
// process, against a stand-in of Twilio's Messages API: a text becomes a
// contact on the route's queue, the agent's reply over the API is
// created at the stand-in from the route's number with the status
// callback, and after the customer texts STOP the next reply is refused
// with the reason.
func TestSMSThroughRouterd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon in process")
	}
	var (
		mu      sync.Mutex
		created []url.Values
	)
	twilio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != smsCrashAccount || p != smsCrashToken || !strings.HasSuffix(r.URL.Path, "/Accounts/"+smsCrashAccount+"/Messages.json") {
			t.Errorf("stand-in: %s %s: not the account's Messages API", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.ParseForm()
		mu.Lock()
		created = append(created, r.PostForm)
		n := len(created)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid": "SM%032x", "status": "queued", "to": %q}`, n, r.PostForm.Get("To"))
	}))
	defer twilio.Close()

	cfg := config.Demo()
	dir := t.TempDir()
	cfg.DataDir, cfg.Store.Path = dir, filepath.Join(dir, config.DefaultDBFile)
	cfg.Auth.AdminToken = testAdminToken
	cfg.PublicURL = smsCrashPublic
	cfg.Twilio.AccountSID, cfg.Twilio.AuthToken, cfg.Twilio.APIBaseURL = smsCrashAccount, smsCrashToken, twilio.URL
	cfg.Twilio.Routes = []config.TwilioRoute{{Queue: "general", From: "+15550001111"}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in, err := start(ctx, cfg, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	srv := httptest.NewServer(in.routes)
	defer srv.Close()

	const ada = "+15551230000"
	// carol's desktop open (only an agent with one takes contacts); its
	// snapshot tells the composer the segment limit.
	d := &daemon{base: srv.URL}
	var login struct {
		Token string `json:"token"`
	}
	d.must(t, "", "POST", "/api/v1/login", map[string]string{"id": "carol", "password": "carol-demo"}, &login)
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(srv.URL, "http", "ws", 1)+"/ws/agent",
		http.Header{"Authorization": {"Bearer " + login.Token}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var snap struct {
		SMSMaxSegments int `json:"sms_max_segments"`
	}
	if err := json.Unmarshal(readUntil(t, ws, "snapshot").Data, &snap); err != nil || snap.SMSMaxSegments != cfg.Twilio.MaxSegments {
		t.Fatalf("the desktop's snapshot: sms_max_segments %d (%v), want %d", snap.SMSMaxSegments, err, cfg.Twilio.MaxSegments)
	}
	drain(ws)
	if code, err := call(srv.URL, "PUT", "/api/v1/agents/carol/state", map[string]string{"state": "available"}, nil, nil); err != nil || code != http.StatusOK {
		t.Fatalf("carol available: %d %v", code, err)
	}
	if code, err := postText(srv.URL, "SM"+strings.Repeat("a", 32), ada, "Is my parcel on its way?"); err != nil || code != http.StatusOK {
		t.Fatalf("text: %d %v", code, err)
	}
	cs := smsContacts(t, srv.URL, ada)
	if len(cs) != 1 || cs[0].AgentID != "carol" || cs[0].State != "offered" {
		t.Fatalf("contacts of %s: %+v, want one offered to carol", ada, cs)
	}
	id := cs[0].ID
	if code, err := call(srv.URL, "POST", "/api/v1/contacts/"+id+"/accept", map[string]string{"agent_id": "carol"}, nil, nil); err != nil || code != http.StatusOK {
		t.Fatalf("accept: %d %v", code, err)
	}
	reply := map[string]string{"direction": "out", "author": "carol", "body": "Yes, it arrives tomorrow."}
	if code, err := call(srv.URL, "POST", "/api/v1/contacts/"+id+"/messages", reply, nil, nil); err != nil || code != http.StatusCreated {
		t.Fatalf("reply: %d %v", code, err)
	}
	// The outbox sends it: wait for the stand-in's request by reading the
	// contact until the reply names its MessageSid (each read is a
	// request; the outbox's work is not timed).
	var sid string
	for deadline := time.Now().Add(10 * time.Second); sid == ""; {
		if time.Now().After(deadline) {
			t.Fatal("the reply was never sent: no MessageSid stored")
		}
		var c struct {
			Messages []struct {
				ExternalID string `json:"external_id"`
				Direction  string `json:"direction"`
				Delivery   *struct {
					Status string `json:"status"`
				} `json:"delivery"`
			} `json:"messages"`
		}
		if code, err := call(srv.URL, "GET", "/api/v1/contacts/"+id, nil, nil, &c); err != nil || code != http.StatusOK {
			t.Fatalf("contact: %d %v", code, err)
		}
		for _, m := range c.Messages {
			if m.Direction == "out" && m.ExternalID != "" {
				sid = m.ExternalID
			}
		}
	}
	mu.Lock()
	got := created[0]
	mu.Unlock()
	if got.Get("To") != ada || got.Get("From") != "+15550001111" || got.Get("Body") != "Yes, it arrives tomorrow." ||
		got.Get("StatusCallback") != smsCrashPublic+"/webhooks/twilio/status" || sid != fmt.Sprintf("SM%032x", 1) {
		t.Fatalf("created %v (sid %s)", got, sid)
	}

	if code, err := postText(srv.URL, "SM"+strings.Repeat("b", 32), ada, "STOP"); err != nil || code != http.StatusOK {
		t.Fatalf("STOP: %d %v", code, err)
	}
	req, _ := json.Marshal(map[string]string{"direction": "out", "author": "carol", "body": "One more thing"})
	r, _ := http.NewRequest("POST", srv.URL+"/api/v1/contacts/"+id+"/messages", strings.NewReader(string(req)))
	r.Header.Set("Authorization", "Bearer "+testAdminToken)
	r.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "opted out") || !strings.Contains(string(body), "STOP") {
		t.Fatalf("a reply after STOP: %d %s, want 409 saying the customer opted out", resp.StatusCode, body)
	}
}
