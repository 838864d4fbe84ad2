// Package attachments keeps the files of messages (an email's
// attachments, an MMS's media, an upload over the API) under the data
// directory, by the SHA-256 of their content: the same file is kept once
// however many messages carry it, and a message's record (the store's
// router.Attachment) names it by its hash.
//
//	files, err := attachments.Open(filepath.Join(dataDir, "attachments"), &attachments.Options{Holders: db})
//	sha, size, err := files.Put(body)          // refuses a file over the limit
//	f, err := files.Open(sha)                  // to serve it
//	removed, err := files.Remove(ctx, sha)     // when no message holds it any more
//	res, err := files.Sweep(ctx, time.Now())   // every hour or so: uploads no message named
//
// Files are written to a temporary file, synced and renamed, with mode
// 0600 in directories of mode 0700: a crash leaves a whole file or none.
//
// # When a file goes
//
// A file is removed (by Remove, after an erasure, or by Sweep, for the
// uploads no message ever named) only when no stored message holds it
// (Options.Holders says) and its time is older than the grace
// (Options.SweepAfter). Its time is when it was last put or named: Put
// sets it, also for content kept already, and so does MessageSizes, the
// check every message's files pass before the message is committed.
// Those steps and the removal's last look at the time and its unlink
// take the file's lock (per hash), so each happens wholly before or
// after the other: a removal after the step finds a young file and keeps
// it; a step after the removal finds no file, and Put writes it again
// while MessageSizes refuses it (ErrNotFound: the message is not
// committed). The one way to lose a file a message names is a commit
// later than the grace after its step; the grace is hours (at least
// MinSweepAfter), a commit milliseconds. The lock is the process's: the
// nodes sharing a directory must leave removing to one of them (routerd:
// the leader).
package attachments

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/switchboard/switchboard/router"
)

// DefaultMaxFileBytes bounds one file when Options.MaxFileBytes is 0.
const DefaultMaxFileBytes = 10 << 20

// DefaultMaxMessageBytes bounds the files of one message together (the
// maxTotal of Attach and MessageSizes) where the caller's options leave
// it out: the API's and the desktop's (attachments.max_message_bytes).
const DefaultMaxMessageBytes = 25 << 20

// DefaultSweepAfter is the grace when Options.SweepAfter is 0: a day
// covers an upload on its way to its message (an agent's reply written
// over a shift) and bounds what uploads nobody sends can pile up.
const DefaultSweepAfter = 24 * time.Hour

// MinSweepAfter is the shortest grace: shorter, an agent writing a long
// reply would see its files refused as gone when it sends.
const MinSweepAfter = time.Hour

// Errors of the package.
var (
	// ErrTooLarge is returned by Put for a file over the limit; nothing
	// is kept.
	ErrTooLarge = errors.New("attachments: file too large")
	// ErrNotFound is returned by Open for a hash no file has.
	ErrNotFound = errors.New("attachments: no such file")
	// ErrBadHash is returned for a name that is not a SHA-256 in hex.
	ErrBadHash = errors.New("attachments: not a SHA-256 in lowercase hex")
	// ErrMessageTooLarge is returned by MessageSizes for files that
	// together hold more than a message may carry.
	ErrMessageTooLarge = errors.New("attachments: a message's files too large together")
	// ErrNoHolders is returned by Remove and Sweep of a store opened
	// without Options.Holders: it cannot tell which files are held.
	ErrNoHolders = errors.New("attachments: no Holders to ask which files messages hold")
)

// FileError is an error about one file of a message's list: Index is
// its place in the list (attachments[Index]); Err wraps ErrBadHash or
// ErrNotFound, or is a failure to read it.
type FileError struct {
	Index int
	Err   error
}

func (e *FileError) Error() string { return fmt.Sprintf("attachments[%d]: %v", e.Index, e.Err) }

// Unwrap returns Err.
func (e *FileError) Unwrap() error { return e.Err }

// Holders says which files stored messages hold; *store.DB implements
// it.
type Holders interface {
	// HeldAttachments returns those of shas that a stored message
	// carries.
	HeldAttachments(ctx context.Context, shas []string) (map[string]bool, error)
}

// Options configure Open; nil means the defaults.
type Options struct {
	// MaxFileBytes bounds one file; 0 means DefaultMaxFileBytes.
	MaxFileBytes int64
	// SweepAfter is the grace: how long after it was last put or named
	// a file no message holds is kept; 0 means DefaultSweepAfter, else
	// at least MinSweepAfter.
	SweepAfter time.Duration
	// Holders says which files messages hold; Remove and Sweep need it.
	Holders Holders
	// Now is the clock of the files' times; nil is time.Now.
	Now func() time.Time
}

// Store keeps files by content hash. It is safe for concurrent use.
type Store struct {
	dir     string
	max     int64
	grace   time.Duration
	holders Holders          // nil: Remove and Sweep refuse
	now     func() time.Time // never nil
	// locks serialise, per hash (by its first byte), what puts or names
	// a file with its removal (the package comment).
	locks [256]sync.Mutex
	// hooks are the tests' ways in; zero outside them.
	hooks testHooks
}

// testHooks let a test stop an operation where another may interleave.
type testHooks struct {
	// removing runs while a removal holds the file's lock, once it
	// decided to unlink it.
	removing func(sha string)
	// contended runs when an operation finds the file's lock held, just
	// before it waits for it.
	contended func(sha string)
}

// Open returns the store under dir, creating it (mode 0700).
func Open(dir string, o *Options) (*Store, error) {
	if o == nil {
		o = &Options{}
	}
	if o.MaxFileBytes < 0 {
		return nil, fmt.Errorf("attachments: MaxFileBytes %d is negative", o.MaxFileBytes)
	}
	if o.SweepAfter != 0 && o.SweepAfter < MinSweepAfter {
		return nil, fmt.Errorf("attachments: SweepAfter %s is shorter than %s", o.SweepAfter, MinSweepAfter)
	}
	s := &Store{dir: dir, max: o.MaxFileBytes, grace: o.SweepAfter, holders: o.Holders, now: o.Now}
	if s.max == 0 {
		s.max = DefaultMaxFileBytes
	}
	if s.grace == 0 {
		s.grace = DefaultSweepAfter
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	return s, nil
}

// MaxFileBytes is the limit of one file.
func (s *Store) MaxFileBytes() int64 { return s.max }

// SweepAfter is the grace of a file no message holds.
func (s *Store) SweepAfter() time.Duration { return s.grace }

// lock takes the lock of sha's file and returns its unlock.
func (s *Store) lock(sha string) (unlock func()) {
	b, _ := hex.DecodeString(sha[:2]) // sha is a valid hash
	mu := &s.locks[b[0]]
	if !mu.TryLock() {
		if s.hooks.contended != nil {
			s.hooks.contended(sha)
		}
		mu.Lock()
	}
	return mu.Unlock
}

// Put keeps the content of r and returns its SHA-256 (lowercase hex)
// and size. A file over the limit fails with ErrTooLarge and keeps
// nothing; a file kept already is not written again, but its time is
// set to now, as a new file's is: the grace protects the upload until a
// message names it.
func (s *Store) Put(r io.Reader) (sha string, size int64, err error) {
	tmp, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return "", 0, fmt.Errorf("attachments: put: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // gone after the rename; else the partial file
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, s.max+1))
	if err != nil {
		return "", 0, fmt.Errorf("attachments: put: %w", err)
	}
	if n > s.max {
		return "", 0, fmt.Errorf("%w: over %d bytes", ErrTooLarge, s.max)
	}
	sha = hex.EncodeToString(h.Sum(nil))
	path := s.path(sha)
	defer s.lock(sha)()
	now := s.now()
	switch err := os.Chtimes(path, now, now); {
	case err == nil:
		return sha, n, nil // kept already, and now protected again
	case !errors.Is(err, os.ErrNotExist):
		return "", 0, fmt.Errorf("attachments: put: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		return "", 0, fmt.Errorf("attachments: put: %w", err)
	}
	if err := os.Chtimes(tmp.Name(), now, now); err != nil {
		return "", 0, fmt.Errorf("attachments: put: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, fmt.Errorf("attachments: put: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", 0, fmt.Errorf("attachments: put: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", 0, fmt.Errorf("attachments: put: %w", err)
	}
	// The rename, and the shard directory if it is new, are durable only
	// once their directories are: before the upload is acknowledged.
	for _, dir := range []string{filepath.Dir(path), filepath.Dir(filepath.Dir(path))} {
		if err := syncDir(dir); err != nil {
			return "", 0, fmt.Errorf("attachments: put: %w", err)
		}
	}
	return sha, n, nil
}

// syncDir flushes a directory's entries to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open opens the file of sha for reading.
func (s *Store) Open(sha string) (*os.File, error) {
	if !ValidHash(sha) {
		return nil, ErrBadHash
	}
	f, err := os.Open(s.path(sha))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, sha)
	}
	if err != nil {
		return nil, fmt.Errorf("attachments: open: %w", err)
	}
	return f, nil
}

// Size returns the size of the file of sha.
func (s *Store) Size(sha string) (int64, error) {
	f, err := s.Open(sha)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("attachments: stat: %w", err)
	}
	return st.Size(), nil
}

// MessageSizes returns the size of each file a message names, by hash
// (in shas' order), once it checked the one rule of a message's files:
// each is kept here (a *FileError wrapping ErrBadHash or ErrNotFound
// otherwise) and together they hold at most maxTotal bytes
// (ErrMessageTooLarge otherwise). The API and the agents' socket both
// ask it, before they commit the message. It sets each file's time to
// now, as Put does: a file named is protected for the grace, by when
// the message holds it (the package comment).
func (s *Store) MessageSizes(shas []string, maxTotal int64) ([]int64, error) {
	sizes := make([]int64, len(shas))
	var total int64
	for i, sha := range shas {
		n, err := s.name(sha)
		if err != nil {
			return nil, &FileError{Index: i, Err: err}
		}
		if total += n; total > maxTotal {
			return nil, fmt.Errorf("%w: over %d bytes", ErrMessageTooLarge, maxTotal)
		}
		sizes[i] = n
	}
	return sizes, nil
}

// File is a file a message names: kept here by its hash, with the name
// and type its sender gives it.
type File struct {
	SHA256, Name, Type string
}

// Attach returns the attachments of a message that names files, once
// MessageSizes accepted them (its errors, with the index of the file);
// a file given no type is application/octet-stream. The API and the
// agents' socket both use it.
func (s *Store) Attach(files []File, maxTotal int64) ([]router.Attachment, error) {
	shas := make([]string, len(files))
	for i, f := range files {
		shas[i] = f.SHA256
	}
	sizes, err := s.MessageSizes(shas, maxTotal)
	if err != nil {
		return nil, err
	}
	out := make([]router.Attachment, len(files))
	for i, f := range files {
		out[i] = router.Attachment{Name: f.Name, Type: cmp.Or(f.Type, "application/octet-stream"), Size: sizes[i], SHA256: f.SHA256}
	}
	return out, nil
}

// name sets the time of sha's file to now and returns its size.
func (s *Store) name(sha string) (int64, error) {
	if !ValidHash(sha) {
		return 0, ErrBadHash
	}
	path := s.path(sha)
	defer s.lock(sha)()
	now := s.now()
	err := os.Chtimes(path, now, now)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("%w: %s", ErrNotFound, sha)
	}
	if err != nil {
		return 0, fmt.Errorf("attachments: name: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("attachments: name: %w", err)
	}
	return st.Size(), nil
}

// Remove deletes the file of sha (after an erasure) unless a message
// holds it or it was put or named within the grace; it reports whether
// it did. A file kept for its grace is left to Sweep. A file gone
// already is no error.
func (s *Store) Remove(ctx context.Context, sha string) (removed bool, err error) {
	if !ValidHash(sha) {
		return false, ErrBadHash
	}
	if s.holders == nil {
		return false, ErrNoHolders
	}
	held, err := s.holders.HeldAttachments(ctx, []string{sha})
	if err != nil {
		return false, fmt.Errorf("attachments: remove: %w", err)
	}
	if held[sha] {
		return false, nil
	}
	_, gone, err := s.removeIdle(sha, s.now().Add(-s.grace))
	if err != nil {
		return false, fmt.Errorf("attachments: remove: %w", err)
	}
	return gone, nil
}

// removeIdle deletes sha's file, which no message held when asked just
// before, if its time is before cutoff; it returns the size of what it
// deleted and whether it did. Under the file's lock: a Put or a
// MessageSizes either came before, and the time is after cutoff, or
// comes after, and finds no file.
func (s *Store) removeIdle(sha string, cutoff time.Time) (size int64, removed bool, err error) {
	path := s.path(sha)
	defer s.lock(sha)()
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case !st.ModTime().Before(cutoff):
		return 0, false, nil
	}
	if s.hooks.removing != nil {
		s.hooks.removing(sha)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, false, err
	}
	return st.Size(), true, nil
}

// path is where the file of sha lives: a directory per first two hex
// digits keeps directories small.
func (s *Store) path(sha string) string { return filepath.Join(s.dir, sha[:2], sha) }

// ValidHash reports whether sha is a SHA-256 in lowercase hex.
func ValidHash(sha string) bool {
	if len(sha) != 2*sha256.Size {
		return false
	}
	for _, c := range sha {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
