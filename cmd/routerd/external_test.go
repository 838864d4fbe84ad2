package main

import (
	"net/http"
	"syscall"
	"testing"
)

// A channel's external id is stored once, ever: the same message posted
// again on a live contact, after the contact ended, and after routerd was
// killed and restarted, is always the first copy, and a customer writing
// again on the ended contact starts one follow-up, not two.
func TestExternalIDAcrossRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	d, data, admin := startDemo(t)
	var c contactReply
	d.must(t, admin, "POST", "/api/v1/contacts", map[string]any{"channel": "api", "queue": "general", "body": "hello"}, &c)
	type msg struct {
		Seq       int    `json:"seq"`
		ContactID string `json:"contact_id"`
		Follows   string `json:"follows"`
	}
	post := func(d *daemon, contact, externalID, body string) msg {
		t.Helper()
		var m msg
		code, err := callAs(admin, d.base, "POST", "/api/v1/contacts/"+contact+"/messages",
			map[string]string{"direction": "in", "body": body, "external_id": externalID}, &m)
		if err != nil || code != http.StatusCreated {
			t.Fatalf("post %s: %d %v", externalID, code, err)
		}
		return m
	}
	first := post(d, c.ID, "crm-1", "one")
	if again := post(d, c.ID, "crm-1", "one"); again != first {
		t.Fatalf("the same message again, live: got %+v, want %+v", again, first)
	}
	d.must(t, admin, "POST", "/api/v1/contacts/"+c.ID+"/abandon", map[string]string{"reason": "test"}, nil)
	if again := post(d, c.ID, "crm-1", "one"); again != first {
		t.Fatalf("after the end: got %+v, want %+v", again, first)
	}
	follow := post(d, c.ID, "crm-2", "two")
	if follow.Follows != c.ID || follow.ContactID == c.ID || follow.Seq != 1 {
		t.Fatalf("a message on the ended contact: got %+v, want a follow-up of %s", follow, c.ID)
	}

	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d.wait()
	d2 := startDaemon(t, "-listen", "127.0.0.1:0", "-data", data)
	if again := post(d2, c.ID, "crm-1", "one"); again != first {
		t.Errorf("after a restart: got %+v, want %+v", again, first)
	}
	if again := post(d2, c.ID, "crm-2", "two"); again != follow {
		t.Errorf("the follow-up's message after a restart: got %+v, want %+v (no second follow-up)", again, follow)
	}
}
