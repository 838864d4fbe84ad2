package api

import (
	"net/http"
	"slices"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// TestNotes: the agent holding a contact and a supervisor write notes,
// by who they are whatever the body says; an integration, another agent
// and a note with a file are refused.
func TestNotes(t *testing.T) {
	e, _ := loginEnv(t, envOptions{})
	alice := e.mustLogin("alice", alicePassword)
	bob := e.mustLogin("bob", bobPassword)
	sam := e.mustLogin("sam", samPassword)
	e.available("alice")
	c := e.create(`{"channel":"api","queue":"billing","customer":{"name":"Ada"},"body":"hello"}`)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/accept", `{"agent_id":"alice"}`)
	path := "/api/v1/contacts/" + c.ID + "/messages"

	note := decodeAs[messageView](t, e.do("POST", path, alice.Token, `{"direction":"note","body":"asked for the invoice","author":"bob"}`))
	if note.Direction != router.DirectionNote || note.Author != "alice" || note.AuthorKind != router.AuthorAgent || note.Delivery != nil {
		t.Errorf("alice's note: %+v", note.Message)
	}
	for _, token := range []string{sam.Token, supervisorToken} {
		w := decodeAs[messageView](t, e.do("POST", path, token, `{"direction":"note","body":"offer the refund"}`))
		if w.AuthorKind != router.AuthorSupervisor || w.Author == "" {
			t.Errorf("a supervisor's whisper: %+v", w.Message)
		}
	}
	for _, tt := range []struct {
		name, token, body string
		want              int
	}{
		{"integration", integrationToken, `{"direction":"note","body":"x"}`, http.StatusForbidden},
		{"another agent", bob.Token, `{"direction":"note","body":"x"}`, http.StatusNotFound},
		{"with a file", sam.Token, `{"direction":"note","body":"x","external_id":"e1"}`, http.StatusBadRequest},
		{"unknown direction", adminToken, `{"direction":"sideways","body":"x"}`, http.StatusBadRequest},
	} {
		if res := e.do("POST", path, tt.token, tt.body); res.status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, res.status, res.body, tt.want)
		}
	}
	d := e.contact(c.ID)
	notes := 0
	for _, m := range d.Messages {
		if m.Direction == router.DirectionNote {
			notes++
		}
	}
	if notes != 3 {
		t.Errorf("%d notes stored, want 3", notes)
	}
}

// TestTags: the agent holding a contact and a supervisor tag it; the
// contacts API finds it by tag (in any case), an agent only among its
// own; another agent, an integration and a bad tag are refused.
func TestTags(t *testing.T) {
	e, _ := loginEnv(t, envOptions{})
	alice := e.mustLogin("alice", alicePassword)
	bob := e.mustLogin("bob", bobPassword)
	sam := e.mustLogin("sam", samPassword)
	e.available("alice")
	c := e.create(`{"channel":"api","queue":"billing","customer":{"name":"Ada"},"body":"hello"}`)
	other := e.create(`{"channel":"api","queue":"billing","customer":{"name":"Bea"},"body":"hi"}`)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/accept", `{"agent_id":"alice"}`)
	path := "/api/v1/contacts/" + c.ID + "/tags"

	got := decodeAs[router.Contact](t, e.do("POST", path, alice.Token, `{"add":["Refund","vip"]}`))
	if !slices.Equal(got.Tags, []string{"refund", "vip"}) {
		t.Errorf("alice's tags: %v", got.Tags)
	}
	got = decodeAs[router.Contact](t, e.do("POST", path, sam.Token, `{"remove":["vip"],"add":["escalated"]}`))
	if !slices.Equal(got.Tags, []string{"escalated", "refund"}) {
		t.Errorf("after sam: %v", got.Tags)
	}
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+other.ID+"/tags", `{"add":["refund"]}`) // admin, queued
	for _, tt := range []struct {
		name, token, body string
		want              int
	}{
		{"another agent", bob.Token, `{"add":["x"]}`, http.StatusNotFound},
		{"integration", integrationToken, `{"add":["x"]}`, http.StatusForbidden},
		{"not a name", sam.Token, `{"add":["two words"]}`, http.StatusBadRequest},
		{"unknown field", sam.Token, `{"add":["x"],"colour":"red"}`, http.StatusBadRequest},
	} {
		if res := e.do("POST", path, tt.token, tt.body); res.status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, res.status, res.body, tt.want)
		}
	}

	ids := func(token, query string) []string {
		t.Helper()
		l := decodeAs[contactList](t, e.do("GET", "/api/v1/contacts?"+query, token, ""))
		var out []string
		for _, c := range l.Contacts {
			out = append(out, c.ID)
		}
		slices.Sort(out)
		return out
	}
	both := []string{c.ID, other.ID}
	slices.Sort(both)
	if got := ids(adminToken, "tag=REFUND"); !slices.Equal(got, both) {
		t.Errorf("tag=REFUND: %v, want %v", got, both)
	}
	if got := ids(alice.Token, "tag=refund"); !slices.Equal(got, []string{c.ID}) {
		t.Errorf("alice's refund contacts: %v, want only hers", got)
	}
	if got := ids(adminToken, "tag=vip"); len(got) != 0 {
		t.Errorf("tag=vip after its removal: %v", got)
	}
	if res := e.do("GET", "/api/v1/contacts?tag=a%20b", adminToken, ""); res.status != http.StatusBadRequest {
		t.Errorf("a bad tag in the query: %d", res.status)
	}
}
