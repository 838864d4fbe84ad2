// Package diskspace watches the free space of the data directory's disk,
// so that a disk filling up refuses new contacts with a clear error
// while everything else keeps working, instead of a write failing
// (ENOSPC) and the router stopping (fail-stop) with the daemon down.
//
//	g, err := diskspace.Watch(dataDir, &diskspace.Options{MinFree: 128 << 20, Reserve: 32 << 20})
//	...
//	if err := g.Admit(); err != nil { /* refuse the new contact */ }
//
// Below MinFree bytes free, the guard is low: Admit refuses. So that the
// rest (answers to live contacts, closes, the outbox) still has room when
// something else filled the disk to the last byte, the guard keeps a
// reserve file of Reserve bytes in the directory while space is plenty,
// and removes it when it turns low: those bytes are then free for the
// writes that keep serving. Once MinFree plus Reserve are free again, the
// reserve is made again and the guard is no longer low.
package diskspace

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Defaults of Options.
const (
	DefaultMinFree = 128 << 20
	DefaultReserve = 32 << 20
	DefaultEvery   = time.Second
)

// ReserveName is the reserve file's name in the watched directory.
const ReserveName = "disk-reserve"

// ErrLow is what Admit returns while the disk is nearly full.
var ErrLow = errors.New("the disk of the data directory is nearly full")

// Options configure Watch; the zero value means the defaults.
type Options struct {
	// MinFree is the free space below which the guard is low.
	MinFree int64
	// Reserve is the size of the reserve file; negative keeps none.
	Reserve int64
	// Every is how often the free space is read.
	Every time.Duration
	// Free returns the bytes free to routerd on dir's filesystem; nil
	// asks the filesystem (statfs). Tests set it.
	Free func(dir string) (int64, error)
	// OnChange, if set, is told each change of Low, on the guard's
	// goroutine.
	OnChange func(low bool, free int64)
	Logger   *slog.Logger
}

// Guard watches one directory's filesystem.
type Guard struct {
	dir string
	o   Options

	low  atomic.Bool
	free atomic.Int64

	mu   sync.Mutex // serializes check
	stop chan struct{}
	done chan struct{}
}

// Watch checks dir's filesystem now (making the reserve, or removing it
// if space is low already) and then every o.Every until Close.
func Watch(dir string, o *Options) (*Guard, error) {
	g := &Guard{dir: dir, stop: make(chan struct{}), done: make(chan struct{})}
	if o != nil {
		g.o = *o
	}
	if g.o.MinFree <= 0 {
		g.o.MinFree = DefaultMinFree
	}
	if g.o.Reserve == 0 {
		g.o.Reserve = DefaultReserve
	}
	if g.o.Every <= 0 {
		g.o.Every = DefaultEvery
	}
	if g.o.Free == nil {
		g.o.Free = statfsFree
	}
	if g.o.Logger == nil {
		g.o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := g.Check(); err != nil {
		return nil, err
	}
	go g.run()
	return g, nil
}

// Admit returns nil, or an error wrapping ErrLow while the disk is nearly
// full.
func (g *Guard) Admit() error {
	if g.low.Load() {
		return fmt.Errorf("%w (%d MiB free, below %d MiB): new contacts are refused until space is freed", ErrLow, g.free.Load()>>20, g.o.MinFree>>20)
	}
	return nil
}

// Low reports whether the disk is nearly full.
func (g *Guard) Low() bool { return g.low.Load() }

// Free returns the free bytes the last check read.
func (g *Guard) Free() int64 { return g.free.Load() }

// Close stops the watch; the reserve file stays. A nil Guard (none
// configured) has nothing to stop.
func (g *Guard) Close() {
	if g == nil {
		return
	}
	close(g.stop)
	<-g.done
}

func (g *Guard) run() {
	defer close(g.done)
	t := time.NewTicker(g.o.Every)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
		}
		if err := g.Check(); err != nil {
			g.o.Logger.Error("disk: cannot read the free space", "dir", g.dir, "err", err)
		}
	}
}

// Check reads the free space now and turns the guard low or not.
func (g *Guard) Check() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	free, err := g.o.Free(g.dir)
	if err != nil {
		return fmt.Errorf("diskspace: %w", err)
	}
	g.free.Store(free)
	path := filepath.Join(g.dir, ReserveName)
	switch {
	case !g.low.Load() && free < g.o.MinFree:
		// Low: the reserve's bytes go to the writes that keep serving.
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			g.o.Logger.Error("disk: cannot remove the reserve", "path", path, "err", err)
		}
		g.low.Store(true)
		g.o.Logger.Error("disk: nearly full; new contacts are refused until space is freed",
			"dir", g.dir, "free_mib", free>>20, "min_free_mib", g.o.MinFree>>20)
		g.changed(true, free)
	case g.low.Load() && free >= g.o.MinFree+max(g.o.Reserve, 0):
		if err := g.makeReserve(path); err != nil {
			g.o.Logger.Error("disk: cannot make the reserve again", "path", path, "err", err)
			return nil // stays low: the space is not there after all
		}
		g.low.Store(false)
		g.o.Logger.Info("disk: space freed; new contacts are taken again", "dir", g.dir, "free_mib", free>>20)
		g.changed(false, free)
	case !g.low.Load() && free >= g.o.MinFree+max(g.o.Reserve, 0):
		// Made (again) only where it leaves MinFree free.
		if err := g.makeReserve(path); err != nil {
			return err
		}
	}
	return nil
}

func (g *Guard) changed(low bool, free int64) {
	if g.o.OnChange != nil {
		g.o.OnChange(low, free)
	}
}

// makeReserve makes the reserve file Reserve bytes long, written (a
// sparse file would reserve nothing) and synced; it does nothing when it
// is already.
func (g *Guard) makeReserve(path string) error {
	if g.o.Reserve <= 0 {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.Size() >= g.o.Reserve {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("diskspace: reserve: %w", err)
	}
	err = allocate(f, g.o.Reserve)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("diskspace: reserve: %w", err)
	}
	return nil
}

// writeZeros gives f n bytes of disk by writing them.
func writeZeros(f *os.File, n int64) error {
	_, err := io.CopyN(f, zeros{make([]byte, 1<<20)}, n)
	return err
}

// zeros reads as endless zero bytes, a chunk at a time.
type zeros struct{ chunk []byte }

func (z zeros) Read(p []byte) (int, error) {
	return copy(p, z.chunk), nil
}

// statfsFree is the space available to an unprivileged user on dir's
// filesystem.
func statfsFree(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
