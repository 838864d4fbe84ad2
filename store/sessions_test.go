package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

// tokenHash makes a distinct 64-character hex token hash from a letter.
func tokenHash(c string) string { return strings.Repeat(c, 64) }

func TestCredentials(t *testing.T) { forEachDialect(t, testCredentials) }

func testCredentials(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	if _, err := db.Credential(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Credential before set: got %v, want ErrNotFound", err)
	}
	want := Credential{LoginID: "alice", Hash: "$2a$04$first", Role: "agent", UpdatedAt: at}
	if err := db.SetCredential(ctx, want); err != nil {
		t.Fatalf("SetCredential: %v", err)
	}
	if got, err := db.Credential(ctx, "alice"); err != nil || got != want {
		t.Fatalf("Credential: got %+v, %v; want %+v", got, err, want)
	}
	want = Credential{LoginID: "alice", Hash: "$2a$04$second", Role: "supervisor", UpdatedAt: at.Add(time.Hour)}
	if err := db.SetCredential(ctx, want); err != nil {
		t.Fatalf("SetCredential again: %v", err)
	}
	if got, err := db.Credential(ctx, "alice"); err != nil || got != want {
		t.Fatalf("Credential after replace: got %+v, %v; want %+v", got, err, want)
	}
	if err := db.SetCredential(ctx, Credential{LoginID: "bob"}); !errors.Is(err, ErrBadOptions) {
		t.Errorf("SetCredential without hash: got %v, want ErrBadOptions", err)
	}
	if err := db.SetCredential(ctx, Credential{LoginID: "bob", Hash: "$2a$10$bob", Role: "agent", UpdatedAt: at}); err != nil {
		t.Fatalf("SetCredential bob: %v", err)
	}
	hashes, err := db.CredentialHashes(ctx)
	slices.Sort(hashes)
	if want := []string{"$2a$04$second", "$2a$10$bob"}; err != nil || !slices.Equal(hashes, want) {
		t.Errorf("CredentialHashes: got %q, %v; want %q", hashes, err, want)
	}
}

func TestDeleteLogin(t *testing.T) { forEachDialect(t, testDeleteLogin) }

func testDeleteLogin(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, login := range []string{"alice", "bob"} {
		if err := db.SetCredential(ctx, Credential{LoginID: login, Hash: "$2a$04$" + login, Role: "agent", UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range []Session{
		{TokenHash: tokenHash("a"), LoginID: "alice", Role: "agent", CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
		{TokenHash: tokenHash("b"), LoginID: "bob", Role: "agent", CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
		{TokenHash: tokenHash("c"), LoginID: "carol", Role: "agent", CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
	} {
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
	tests := []struct {
		login   string
		existed bool
		ended   []string
	}{
		{"alice", true, []string{SessionID(tokenHash("a"))}},
		{"alice", false, nil},
		{"carol", false, []string{SessionID(tokenHash("c"))}}, // sessions without a credential go too
		{"nobody", false, nil},
	}
	for _, tt := range tests {
		existed, ended, err := db.DeleteLogin(ctx, tt.login)
		if err != nil || existed != tt.existed || !slices.Equal(ended, tt.ended) {
			t.Errorf("DeleteLogin(%q): got %v, %q, %v; want %v, %q", tt.login, existed, ended, err, tt.existed, tt.ended)
		}
	}
	if _, err := db.Credential(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("alice's credential after DeleteLogin: got %v, want ErrNotFound", err)
	}
	if _, err := db.Session(ctx, tokenHash("a")); !errors.Is(err, ErrNotFound) {
		t.Errorf("alice's session after DeleteLogin: got %v, want ErrNotFound", err)
	}
	if _, err := db.Session(ctx, tokenHash("b")); err != nil {
		t.Errorf("bob's session: got %v, want it kept", err)
	}
}

func TestSessions(t *testing.T) { forEachDialect(t, testSessions) }

func testSessions(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	session := func(c, login string, created time.Time) Session {
		return Session{TokenHash: tokenHash(c), LoginID: login, Role: "agent", CreatedAt: created, ExpiresAt: created.Add(12 * time.Hour)}
	}

	a1, a2, b1 := session("a", "alice", at), session("b", "alice", at.Add(time.Minute)), session("c", "bob", at)
	for _, s := range []Session{a1, a2, b1} {
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
	}
	if err := db.CreateSession(ctx, a1); err == nil {
		t.Errorf("CreateSession with a token hash already used: got nil, want an error")
	}
	if got, err := db.Session(ctx, a2.TokenHash); err != nil || got != a2 {
		t.Fatalf("Session: got %+v, %v; want %+v", got, err, a2)
	}
	if got := a2.ID(); got != strings.Repeat("b", SessionIDLen) {
		t.Errorf("ID: got %q, want 16 b's", got)
	}

	// A new login replaces both of alice's sessions, not bob's.
	a3 := session("d", "alice", at.Add(2*time.Minute))
	ended, err := db.ReplaceSessions(ctx, a3)
	if err != nil {
		t.Fatalf("ReplaceSessions: %v", err)
	}
	if want := []string{a1.ID(), a2.ID()}; !slices.Equal(ended, want) {
		t.Errorf("ReplaceSessions ended %v, want %v", ended, want)
	}
	for _, s := range []Session{a1, a2} {
		if _, err := db.Session(ctx, s.TokenHash); !errors.Is(err, ErrNotFound) {
			t.Errorf("Session %s after replace: got %v, want ErrNotFound", s.ID(), err)
		}
	}
	for _, s := range []Session{a3, b1} {
		if _, err := db.Session(ctx, s.TokenHash); err != nil {
			t.Errorf("Session %s after replace: %v", s.ID(), err)
		}
	}

	if ok, err := db.DeleteSession(ctx, b1.TokenHash); err != nil || !ok {
		t.Errorf("DeleteSession: got %v, %v; want true, nil", ok, err)
	}
	if ok, err := db.DeleteSession(ctx, b1.TokenHash); err != nil || ok {
		t.Errorf("DeleteSession again: got %v, %v; want false, nil", ok, err)
	}
	ended, err = db.DeleteSessions(ctx, "alice")
	if want := []string{a3.ID()}; err != nil || !slices.Equal(ended, want) {
		t.Errorf("DeleteSessions: got %v, %v; want %v", ended, err, want)
	}
	if ended, err := db.DeleteSessions(ctx, "alice"); err != nil || ended != nil {
		t.Errorf("DeleteSessions of none: got %v, %v; want nil, nil", ended, err)
	}
}

func TestDeleteExpiredSessions(t *testing.T) { forEachDialect(t, testDeleteExpiredSessions) }

func testDeleteExpiredSessions(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	old := Session{TokenHash: tokenHash("a"), LoginID: "alice", Role: "agent", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	fresh := Session{TokenHash: tokenHash("b"), LoginID: "bob", Role: "agent", CreatedAt: at, ExpiresAt: at.Add(2 * time.Hour)}
	for _, s := range []Session{old, fresh} {
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
	}
	if n, err := db.DeleteExpiredSessions(ctx, at.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions: got %d, %v; want 1, nil", n, err)
	}
	if _, err := db.Session(ctx, old.TokenHash); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session: got %v, want ErrNotFound", err)
	}
	if _, err := db.Session(ctx, fresh.TokenHash); err != nil {
		t.Errorf("fresh session: %v", err)
	}
}

func TestAgentExistsAndFilter(t *testing.T) { forEachDialect(t, testAgentExistsAndFilter) }

func testAgentExistsAndFilter(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	mine, theirs := fullContact("c-1"), fullContact("c-2")
	mine.AgentID, theirs.AgentID = "a-1", "a-2"
	commit(t, db, &router.Batch{Agents: []router.Agent{fullAgent("a-1")}, Contacts: []router.Contact{mine, theirs}})

	for id, want := range map[string]bool{"a-1": true, "a-2": false} {
		if got, err := db.AgentExists(ctx, id); err != nil || got != want {
			t.Errorf("AgentExists(%q): got %v, %v; want %v", id, got, err, want)
		}
	}
	page, err := db.Contacts(ctx, ContactFilter{AgentID: "a-1"})
	if err != nil {
		t.Fatalf("Contacts: %v", err)
	}
	if len(page.Contacts) != 1 || page.Contacts[0].ID != "c-1" {
		t.Errorf("Contacts of a-1: got %v, want c-1 only", page.Contacts)
	}
}
