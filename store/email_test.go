package store

import (
	"context"
	"testing"
	"time"
)

func TestEmailCheckpoint(t *testing.T) { forEachDialect(t, testEmailCheckpoint) }

func testEmailCheckpoint(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if _, found, err := db.EmailCheckpoint(ctx, "support"); err != nil || found {
		t.Fatalf("EmailCheckpoint of a mailbox never read: found %v, err %v; want false, nil", found, err)
	}
	since := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	for _, cp := range []EmailCheckpoint{
		{UIDValidity: 7, LastUID: 12, Since: since, Newest: since.Add(time.Minute), FloorUID: 3, FloorSince: since},
		{UIDValidity: 4294967295, LastUID: 4294967295, Since: since.Add(time.Hour), FloorUID: 4294967295}, // the largest UIDs IMAP has
	} {
		if err := db.PutEmailCheckpoint(ctx, "support", cp); err != nil {
			t.Fatalf("PutEmailCheckpoint: %v", err)
		}
		got, found, err := db.EmailCheckpoint(ctx, "support")
		if err != nil || !found {
			t.Fatalf("EmailCheckpoint: found %v, err %v", found, err)
		}
		if got.UIDValidity != cp.UIDValidity || got.LastUID != cp.LastUID || !got.Since.Equal(cp.Since) || !got.Newest.Equal(cp.Newest) ||
			got.FloorUID != cp.FloorUID || !got.FloorSince.Equal(cp.FloorSince) || got.UpdatedAt.IsZero() {
			t.Errorf("got %+v, want %+v with UpdatedAt set", got, cp)
		}
	}
	if _, found, _ := db.EmailCheckpoint(ctx, "sales"); found {
		t.Errorf("another mailbox's checkpoint found; want each mailbox its own")
	}
}

func TestEmailRefreshToken(t *testing.T) { forEachDialect(t, testEmailRefreshToken) }

func testEmailRefreshToken(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if _, found, err := db.EmailRefreshToken(ctx, "mailbox:support"); err != nil || found {
		t.Fatalf("none stored: found %v, err %v", found, err)
	}
	for _, tok := range []string{"rt-1", "rt-2"} {
		if err := db.PutEmailRefreshToken(ctx, "mailbox:support", tok); err != nil {
			t.Fatal(err)
		}
		if got, found, err := db.EmailRefreshToken(ctx, "mailbox:support"); err != nil || !found || got != tok {
			t.Errorf("got %q %v %v, want %q", got, found, err, tok)
		}
	}
	if _, found, _ := db.EmailRefreshToken(ctx, "smtp"); found {
		t.Error("another name's token found")
	}
}

func TestMigrationFloorOfCheckpoints(t *testing.T) {
	forEachDialect(t, testMigrationFloorOfCheckpoints)
}

// A checkpoint stored before migration 22 gets its floor where it was:
// its last UID, and the day of a read by date under way. The sweep then
// looks at nothing already behind it.
func testMigrationFloorOfCheckpoints(t *testing.T) {
	ctx := context.Background()
	opts := testOptions(t)
	all := migrations
	defer func() { migrations = all }()
	if all[21].version != 22 {
		t.Fatalf("migration 22 is at %d", all[21].version)
	}
	old, d := migrateTo(t, opts, 21) // the schema before version 22
	since := t0.Add(-48 * time.Hour)
	for _, row := range []struct {
		mailbox     string
		last, since int64
	}{{"support", 4711, 0}, {"sales", 12, toNanos(since)}} {
		if _, err := old.ExecContext(ctx, rebind(d, `INSERT INTO email_checkpoints (mailbox, uid_validity, last_uid, since, newest, updated_at)
VALUES (?, ?, ?, ?, ?, ?)`), row.mailbox, 7, row.last, row.since, toNanos(t0), toNanos(t0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, want := range []struct {
		mailbox string
		floor   uint32
		since   time.Time
	}{{"support", 4711, time.Time{}}, {"sales", 12, since}} {
		cp, found, err := db.EmailCheckpoint(ctx, want.mailbox)
		if err != nil || !found {
			t.Fatalf("%s: %v, found %v", want.mailbox, err, found)
		}
		if cp.FloorUID != want.floor || !cp.FloorSince.Equal(want.since) || cp.LastUID != want.floor {
			t.Errorf("%s: floor %d since %v (last %d), want floor %d since %v", want.mailbox, cp.FloorUID, cp.FloorSince, cp.LastUID, want.floor, want.since)
		}
	}
}
