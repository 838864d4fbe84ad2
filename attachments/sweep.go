package attachments

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// sweepBatch is how many files Sweep asks Holders about at once.
const sweepBatch = 500

// tmpPrefix names the temporary files of uploads in progress, in the
// store's directory.
const tmpPrefix = ".upload-"

// SweepResult counts what one Sweep found. It never names a file.
type SweepResult struct {
	// Files is how many files it looked at.
	Files int
	// Young were put or named within the grace: kept.
	Young int
	// Held are older, and a message holds them: kept.
	Held int
	// Removed are older, and no message held them; RemovedBytes their
	// sizes together.
	Removed      int
	RemovedBytes int64
	// Partial are temporary files of uploads that a crash interrupted,
	// older than the grace: removed.
	Partial int
}

// Sweep removes the files no stored message holds whose time (when they
// were last put or named) is before now less the grace: the uploads no
// message ever named, and those an erasure left for their grace. It
// also removes the temporary files of uploads that a crash interrupted,
// once as old. A held file stays whatever its age. It asks Holders in
// batches, then takes each file's lock and looks at its time again
// before it unlinks it (the package comment). It stops at the first
// error, with what it did so far; files it does not know (not named by
// a hash, or in another shard) it leaves alone.
func (s *Store) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	if s.holders == nil {
		return res, ErrNoHolders
	}
	cutoff := now.Add(-s.grace)
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return res, fmt.Errorf("attachments: sweep: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.Type().IsRegular() && strings.HasPrefix(name, tmpPrefix):
			if err := s.sweepPartial(filepath.Join(s.dir, name), cutoff, &res); err != nil {
				return res, fmt.Errorf("attachments: sweep: %w", err)
			}
		case e.IsDir() && isShard(name):
			if err := s.sweepShard(ctx, name, cutoff, &res); err != nil {
				return res, fmt.Errorf("attachments: sweep %s: %w", name, err)
			}
		}
	}
	return res, nil
}

// sweepShard sweeps the directory of the hashes that start with shard.
func (s *Store) sweepShard(ctx context.Context, shard string, cutoff time.Time, res *SweepResult) error {
	entries, err := os.ReadDir(filepath.Join(s.dir, shard))
	if err != nil {
		return err
	}
	var idle []string
	for _, e := range entries {
		sha := e.Name()
		if !e.Type().IsRegular() || !ValidHash(sha) || sha[:2] != shard {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, os.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return err
		}
		res.Files++
		if info.ModTime().Before(cutoff) {
			idle = append(idle, sha)
		} else {
			res.Young++
		}
	}
	for len(idle) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := idle[:min(len(idle), sweepBatch)]
		idle = idle[len(batch):]
		held, err := s.holders.HeldAttachments(ctx, batch)
		if err != nil {
			return err
		}
		for _, sha := range batch {
			if held[sha] {
				res.Held++
				continue
			}
			size, removed, err := s.removeIdle(sha, cutoff)
			switch {
			case err != nil:
				return err
			case removed:
				res.Removed++
				res.RemovedBytes += size
			default:
				res.Young++ // put or named since it was listed
			}
		}
	}
	return nil
}

// sweepPartial removes the temporary file path if it is older than
// cutoff: an upload in progress writes it, so its time is recent.
func (s *Store) sweepPartial(path string, cutoff time.Time, res *SweepResult) error {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !info.ModTime().Before(cutoff):
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	res.Partial++
	return nil
}

// isShard reports whether name is a shard directory's: two lowercase
// hex digits.
func isShard(name string) bool {
	return len(name) == 2 && ValidHash(name+strings.Repeat("0", 62))
}
