package diskspace

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeDisk is a filesystem's free space as the test sets it, less what
// the reserve file takes while it exists.
type fakeDisk struct {
	dir     string
	outside atomic.Int64 // free space but for the reserve
}

func (d *fakeDisk) free(string) (int64, error) {
	n := d.outside.Load()
	if st, err := os.Stat(filepath.Join(d.dir, ReserveName)); err == nil {
		n -= st.Size()
	}
	return n, nil
}

func TestGuard(t *testing.T) {
	d := &fakeDisk{dir: t.TempDir()}
	d.outside.Store(1000)
	var changes []bool
	g, err := Watch(d.dir, &Options{MinFree: 300, Reserve: 100, Every: time.Hour, Free: d.free,
		OnChange: func(low bool, _ int64) { changes = append(changes, low) }})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	reserve := filepath.Join(d.dir, ReserveName)
	size := func() int64 {
		st, err := os.Stat(reserve)
		if errors.Is(err, os.ErrNotExist) {
			return -1
		}
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	if g.Low() || g.Admit() != nil || size() != 100 {
		t.Fatalf("plenty of space: low %v, admit %v, reserve %d bytes; want not low and a reserve of 100", g.Low(), g.Admit(), size())
	}

	// Something else fills the disk: 350 free but for the reserve, 250
	// with it, below 300.
	d.outside.Store(350)
	if err := g.Check(); err != nil {
		t.Fatal(err)
	}
	if !g.Low() || !errors.Is(g.Admit(), ErrLow) || size() != -1 {
		t.Fatalf("nearly full: low %v, admit %v, reserve %d; want low, ErrLow and the reserve removed", g.Low(), g.Admit(), size())
	}
	// 350 free is not enough to leave: the reserve must fit above 300.
	if err := g.Check(); err != nil {
		t.Fatal(err)
	}
	if !g.Low() {
		t.Fatal("left low without room for the reserve")
	}
	// Space freed: the reserve is made again and new contacts admitted.
	d.outside.Store(400)
	if err := g.Check(); err != nil {
		t.Fatal(err)
	}
	if g.Low() || g.Admit() != nil || size() != 100 {
		t.Fatalf("freed: low %v, admit %v, reserve %d; want not low and the reserve back", g.Low(), g.Admit(), size())
	}
	if len(changes) != 2 || !changes[0] || changes[1] {
		t.Errorf("changes told: %v, want [true false]", changes)
	}
}

// A daemon that starts on a nearly full disk starts low, with its
// reserve's bytes freed for the writes that keep serving.
func TestGuardStartsLow(t *testing.T) {
	d := &fakeDisk{dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(d.dir, ReserveName), make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	d.outside.Store(350)
	g, err := Watch(d.dir, &Options{MinFree: 300, Reserve: 100, Every: time.Hour, Free: d.free})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if !g.Low() {
		t.Fatal("not low on a nearly full disk")
	}
	if _, err := os.Stat(filepath.Join(d.dir, ReserveName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the reserve is still there: %v", err)
	}
}

// The real filesystem: the reserve is written, not sparse.
func TestReserveTakesSpace(t *testing.T) {
	dir := t.TempDir()
	g, err := Watch(dir, &Options{MinFree: 1, Reserve: 4 << 20, Every: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Free() <= 0 {
		t.Errorf("free space read: %d", g.Free())
	}
	st, err := os.Stat(filepath.Join(dir, ReserveName))
	if err != nil {
		t.Fatal(err)
	}
	if blocks := blocksOf(t, st); blocks*512 < 4<<20 {
		t.Errorf("the reserve takes %d bytes of disk, want 4 MiB", blocks*512)
	}
}

// blocksOf returns the 512-byte blocks a file takes on disk.
func blocksOf(t *testing.T, st os.FileInfo) int64 {
	t.Helper()
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skip("no block count on this system")
	}
	return sys.Blocks
}
