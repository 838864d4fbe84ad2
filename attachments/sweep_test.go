package attachments

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// epoch is when the tests' clocks start.
var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// testClock is a clock that stands still until advanced.
type testClock struct {
	mu sync.Mutex
	t  time.Time // guarded by mu
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeHolders stands for the stored messages: hold is a message
// committed that carries a file.
type fakeHolders struct {
	mu      sync.Mutex
	held    map[string]bool // guarded by mu
	batches []int           // the size of each question; guarded by mu
}

func (h *fakeHolders) HeldAttachments(_ context.Context, shas []string) (map[string]bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.batches = append(h.batches, len(shas))
	out := map[string]bool{}
	for _, sha := range shas {
		if h.held[sha] {
			out[sha] = true
		}
	}
	return out, nil
}

func (h *fakeHolders) hold(sha string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held == nil {
		h.held = map[string]bool{}
	}
	h.held[sha] = true
}

// sweepEnv is a store with a manual clock and fake messages.
type sweepEnv struct {
	t       *testing.T
	dir     string
	s       *Store
	clock   *testClock
	holders *fakeHolders
}

func newSweepEnv(t *testing.T) *sweepEnv {
	t.Helper()
	e := &sweepEnv{t: t, dir: filepath.Join(t.TempDir(), "attachments"), clock: &testClock{t: epoch}, holders: &fakeHolders{}}
	s, err := Open(e.dir, &Options{Holders: e.holders, Now: e.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	return e
}

func (e *sweepEnv) put(content string) string {
	e.t.Helper()
	sha, _, err := e.s.Put(strings.NewReader(content))
	if err != nil {
		e.t.Fatal(err)
	}
	return sha
}

func (e *sweepEnv) sweep() SweepResult {
	e.t.Helper()
	res, err := e.s.Sweep(context.Background(), e.clock.now())
	if err != nil {
		e.t.Fatalf("Sweep: %v", err)
	}
	return res
}

func (e *sweepEnv) kept(sha string) bool {
	e.t.Helper()
	_, err := os.Stat(e.s.path(sha))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		e.t.Fatal(err)
	}
	return err == nil
}

// writeAt writes a file under the store's directory with the time at.
func (e *sweepEnv) writeAt(rel string, at time.Time) string {
	e.t.Helper()
	path := filepath.Join(e.dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chtimes(path, at, at); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// A file no message holds goes once the grace has passed since it was
// last put or named; a held file stays whatever its age.
func TestSweep(t *testing.T) {
	grace := DefaultSweepAfter
	t.Run("unheld-old-removed", func(t *testing.T) {
		e := newSweepEnv(t)
		sha := e.put("never sent")
		e.clock.advance(grace + time.Second)
		if res := e.sweep(); res != (SweepResult{Files: 1, Removed: 1, RemovedBytes: 10}) {
			t.Errorf("got %+v, want 1 file of 10 bytes removed", res)
		}
		if e.kept(sha) {
			t.Error("the upload no message named is still kept")
		}
	})
	t.Run("held-kept-whatever-its-age", func(t *testing.T) {
		e := newSweepEnv(t)
		sha := e.put("the invoice")
		e.holders.hold(sha)
		e.clock.advance(100 * grace)
		if res := e.sweep(); res != (SweepResult{Files: 1, Held: 1}) {
			t.Errorf("got %+v, want 1 file held", res)
		}
		if !e.kept(sha) {
			t.Error("a file a message holds was removed")
		}
	})
	t.Run("unheld-young-kept", func(t *testing.T) {
		e := newSweepEnv(t)
		sha := e.put("on its way")
		e.clock.advance(grace - time.Second)
		if res := e.sweep(); res != (SweepResult{Files: 1, Young: 1}) {
			t.Errorf("got %+v, want 1 young file", res)
		}
		if !e.kept(sha) {
			t.Error("an upload within its grace was removed")
		}
	})
	t.Run("exactly-the-grace-kept", func(t *testing.T) {
		e := newSweepEnv(t)
		sha := e.put("on its way")
		e.clock.advance(grace)
		if e.sweep(); !e.kept(sha) {
			t.Error("an upload exactly the grace old was removed")
		}
	})
	for _, again := range []struct {
		name string
		do   func(e *sweepEnv, sha string) error
	}{
		{"put-again-refreshes", func(e *sweepEnv, sha string) error {
			_, _, err := e.s.Put(strings.NewReader("same content"))
			return err
		}},
		{"naming-refreshes", func(e *sweepEnv, sha string) error {
			_, err := e.s.MessageSizes([]string{sha}, 100)
			return err
		}},
	} {
		t.Run(again.name, func(t *testing.T) {
			e := newSweepEnv(t)
			sha := e.put("same content")
			e.clock.advance(grace - time.Hour)
			if err := again.do(e, sha); err != nil {
				t.Fatal(err)
			}
			e.clock.advance(2 * time.Hour) // the first put's grace has passed
			if res := e.sweep(); res.Young != 1 || !e.kept(sha) {
				t.Fatalf("got %+v, kept %v: want the file young and kept", res, e.kept(sha))
			}
			e.clock.advance(grace)
			if res := e.sweep(); res.Removed != 1 || e.kept(sha) {
				t.Errorf("a grace after the second: got %+v, want it removed", res)
			}
		})
	}
	t.Run("interrupted-uploads-removed", func(t *testing.T) {
		e := newSweepEnv(t)
		old := e.writeAt(".upload-1", epoch)
		e.clock.advance(grace + time.Second)
		young := e.writeAt(".upload-2", e.clock.now())
		if res := e.sweep(); res != (SweepResult{Partial: 1}) {
			t.Errorf("got %+v, want 1 partial upload removed", res)
		}
		if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the old partial upload: %v, want it gone", err)
		}
		if _, err := os.Stat(young); err != nil {
			t.Errorf("the upload in progress: %v, want it kept", err)
		}
	})
	t.Run("unknown-files-left-alone", func(t *testing.T) {
		e := newSweepEnv(t)
		others := []string{
			e.writeAt("README", epoch),
			e.writeAt("zz/"+strings.Repeat("a", 64), epoch),          // not a shard
			e.writeAt("ab/"+strings.Repeat("c", 64), epoch),          // in another shard
			e.writeAt("ab/ab"+strings.Repeat("C", 62), epoch),        // not lowercase hex
			e.writeAt("ab/ab"+strings.Repeat("c", 62)+".tmp", epoch), // not a hash
		}
		e.clock.advance(10 * grace)
		if res := e.sweep(); res != (SweepResult{}) {
			t.Errorf("got %+v, want nothing looked at", res)
		}
		for _, p := range others {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s: %v, want it left alone", p, err)
			}
		}
	})
	t.Run("batches", func(t *testing.T) {
		e := newSweepEnv(t)
		var shas []string
		for i := range sweepBatch + 2 {
			sha := fmt.Sprintf("00%062x", i)
			e.writeAt("00/"+sha, epoch)
			shas = append(shas, sha)
		}
		e.holders.hold(shas[sweepBatch+1]) // in the second batch
		e.clock.advance(grace + time.Second)
		if res := e.sweep(); res.Files != sweepBatch+2 || res.Held != 1 || res.Removed != sweepBatch+1 {
			t.Errorf("got %+v, want %d removed and 1 held", res, sweepBatch+1)
		}
		if !e.kept(shas[sweepBatch+1]) {
			t.Error("the held file of the second batch was removed")
		}
		if got := e.holders.batches; len(got) != 2 || got[0] != sweepBatch || got[1] != 2 {
			t.Errorf("questions of %v files, want [%d 2]", got, sweepBatch)
		}
	})
	t.Run("grace-too-short", func(t *testing.T) {
		if _, err := Open(t.TempDir(), &Options{SweepAfter: MinSweepAfter - time.Second}); err == nil {
			t.Errorf("a grace under %s was taken", MinSweepAfter)
		}
	})
	t.Run("no-holders", func(t *testing.T) {
		s, err := Open(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sweep(context.Background(), epoch); !errors.Is(err, ErrNoHolders) {
			t.Errorf("Sweep: got %v, want ErrNoHolders", err)
		}
		sha, _, _ := s.Put(strings.NewReader("x"))
		if _, err := s.Remove(context.Background(), sha); !errors.Is(err, ErrNoHolders) {
			t.Errorf("Remove: got %v, want ErrNoHolders", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		e := newSweepEnv(t)
		sha := e.put("never sent")
		e.clock.advance(grace + time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := e.s.Sweep(ctx, e.clock.now()); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		if !e.kept(sha) {
			t.Error("a cancelled sweep removed a file")
		}
	})
}

// Remove, after an erasure, follows the sweep's rule: a file a message
// still holds, or one put or named within the grace, stays.
func TestRemoveKeepsHeldAndYoung(t *testing.T) {
	e := newSweepEnv(t)
	ctx := context.Background()
	held, young := e.put("another customer's too"), e.put("uploaded again just now")
	e.holders.hold(held)
	e.clock.advance(DefaultSweepAfter + time.Second)
	e.put("uploaded again just now")
	for _, sha := range []string{held, young} {
		if removed, err := e.s.Remove(ctx, sha); err != nil || removed || !e.kept(sha) {
			t.Errorf("Remove: got %v %v, kept %v; want it kept", removed, err, e.kept(sha))
		}
	}
	e.clock.advance(DefaultSweepAfter + time.Second)
	if removed, err := e.s.Remove(ctx, young); err != nil || !removed || e.kept(young) {
		t.Errorf("a grace later: got %v %v, want it removed", removed, err)
	}
}

// An erasure's removal and an upload (or a message's check) of the same
// content, in every order: a message that names the file and is
// committed finds it. The orders are forced with the store's hooks.
func TestEraseRacesUpload(t *testing.T) {
	const content = "the same invoice"
	// setup: the file is old and no message holds it (its customer was
	// just erased).
	setup := func(t *testing.T) (*sweepEnv, string) {
		e := newSweepEnv(t)
		sha := e.put(content)
		e.clock.advance(DefaultSweepAfter + time.Hour)
		return e, sha
	}
	// commit stands for the message that names sha, once its step said
	// the file is there: it must be.
	commit := func(t *testing.T, e *sweepEnv, sha string) {
		t.Helper()
		e.holders.hold(sha)
		f, err := e.s.Open(sha)
		if err != nil {
			t.Fatalf("a committed message names %s, which is gone: %v", sha[:8], err)
		}
		f.Close()
		if res := e.sweep(); res.Removed != 0 {
			t.Errorf("a sweep after the commit removed %d files", res.Removed)
		}
	}
	ctx := context.Background()

	t.Run("upload-then-erase", func(t *testing.T) {
		e, sha := setup(t)
		if again := e.put(content); again != sha {
			t.Fatal("another hash")
		}
		if removed, err := e.s.Remove(ctx, sha); err != nil || removed {
			t.Fatalf("Remove after the upload: got %v %v, want it kept", removed, err)
		}
		commit(t, e, sha)
	})
	t.Run("named-then-erase", func(t *testing.T) {
		e, sha := setup(t)
		if _, err := e.s.MessageSizes([]string{sha}, 100); err != nil {
			t.Fatal(err)
		}
		if removed, err := e.s.Remove(ctx, sha); err != nil || removed {
			t.Fatalf("Remove after the check: got %v %v, want it kept", removed, err)
		}
		commit(t, e, sha)
	})
	// The removal has decided, under the file's lock; the upload or the
	// check comes then. It must wait for the lock (contended), and find
	// the file gone when it gets it.
	for _, step := range []struct {
		name string
		// do is the step; ok says whether the message may be committed.
		do func(e *sweepEnv, sha string) (ok bool, err error)
	}{
		{"erase-then-upload", func(e *sweepEnv, sha string) (bool, error) {
			got, _, err := e.s.Put(strings.NewReader(content))
			if err == nil && got != sha {
				err = fmt.Errorf("another hash %s", got)
			}
			return err == nil, err
		}},
		{"erase-then-named", func(e *sweepEnv, sha string) (bool, error) {
			_, err := e.s.MessageSizes([]string{sha}, 100)
			if errors.Is(err, ErrNotFound) {
				return false, nil // refused: "upload it first"
			}
			return err == nil, err
		}},
	} {
		t.Run(step.name, func(t *testing.T) {
			e, sha := setup(t)
			type outcome struct {
				ok  bool
				err error
			}
			done := make(chan outcome, 1)
			waiting := make(chan struct{}, 1)
			e.s.hooks.contended = func(string) { waiting <- struct{}{} }
			e.s.hooks.removing = func(string) {
				go func() {
					ok, err := step.do(e, sha)
					done <- outcome{ok, err}
				}()
				select {
				case <-waiting: // it waits for the removal
				case o := <-done:
					done <- o
					t.Errorf("the step ran while the removal held the file (got %+v)", o)
				}
			}
			if removed, err := e.s.Remove(ctx, sha); err != nil || !removed {
				t.Fatalf("Remove: got %v %v, want it removed", removed, err)
			}
			o := <-done
			if o.err != nil {
				t.Fatal(o.err)
			}
			if o.ok {
				commit(t, e, sha)
			} else if step.name == "erase-then-upload" {
				t.Error("the upload failed")
			}
		})
	}
}
