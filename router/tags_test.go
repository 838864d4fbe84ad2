package router

import (
	"errors"
	"slices"
	"testing"
)

// TestSetTags: the agent holding a contact and a supervisor tag it, in
// one normalized sorted set that the store's index follows; another
// agent, a bad tag, too many tags and an ended contact are refused and
// change nothing.
func TestSetTags(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	h.agent("bob", sk(), nil, AgentAvailable)
	c := h.submit(NewContact{Queue: "q", Body: "hi"})
	if _, err := h.r.Accept(h.ctx, c.ID, c.AgentID); err != nil {
		t.Fatal(err)
	}
	holder := c.AgentID
	other := "bob"
	if holder == "bob" {
		other = "alice"
	}
	stored := func() ([]string, []string) {
		h.store.mu.Lock()
		defer h.store.mu.Unlock()
		return h.store.contacts[c.ID].Tags, h.store.tags[c.ID]
	}

	got, err := h.r.SetTags(h.ctx, c.ID, holder, []string{"Refund", "vip", "refund"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"refund", "vip"}; !slices.Equal(got.Tags, want) {
		t.Errorf("tags %v, want %v", got.Tags, want)
	}
	got, err = h.r.SetTags(h.ctx, c.ID, "", []string{"escalated"}, []string{"VIP"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"escalated", "refund"}
	if !slices.Equal(got.Tags, want) {
		t.Errorf("after the supervisor: %v, want %v", got.Tags, want)
	}
	if tags, index := stored(); !slices.Equal(tags, want) || !slices.Equal(index, want) {
		t.Errorf("stored %v, index %v, want %v", tags, index, want)
	}
	if got := h.lastReason(c.ID, EventTagged); got != "tags: escalated, refund" {
		t.Errorf("last tagged event %q", got)
	}

	many := make([]string, MaxTags)
	for i := range many {
		many[i] = "t" + string(rune('a'+i))
	}
	for _, tt := range []struct {
		name        string
		agent       string
		add, remove []string
		code        Code
	}{
		{"another agent", other, []string{"x"}, nil, CodeNotYours},
		{"not a name", holder, []string{"two words"}, nil, CodeInvalid},
		{"empty", holder, []string{""}, nil, CodeInvalid},
		{"nothing", holder, nil, nil, CodeInvalid},
		{"over the limit", holder, many, nil, CodeInvalid},
	} {
		_, err := h.r.SetTags(h.ctx, c.ID, tt.agent, tt.add, tt.remove)
		var e *Error
		if !errors.As(err, &e) || e.Code != tt.code {
			t.Errorf("%s: got %v, want code %s", tt.name, err, tt.code)
		}
	}
	if tags, index := stored(); !slices.Equal(tags, want) || !slices.Equal(index, want) {
		t.Errorf("after the refusals: stored %v, index %v, want %v", tags, index, want)
	}

	if _, err := h.r.CloseContact(h.ctx, c.ID, holder, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.r.SetTags(h.ctx, c.ID, "", []string{"late"}, nil); err == nil {
		t.Error("tagged an ended contact")
	}
}
