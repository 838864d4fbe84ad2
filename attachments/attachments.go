// Package attachments keeps the files of messages (an email's
// attachments, an MMS's media, an upload over the API) under the data
// directory, by the SHA-256 of their content: the same file is kept once
// however many messages carry it, and a message's record (the store's
// router.Attachment) names it by its hash.
//
//	files, err := attachments.Open(filepath.Join(dataDir, "attachments"), nil)
//	sha, size, err := files.Put(body)          // refuses a file over the limit
//	f, err := files.Open(sha)                  // to serve it
//	err = files.Remove(sha)                    // when no message holds it any more
//
// Files are written to a temporary file, synced and renamed, with mode
// 0600 in directories of mode 0700: a crash leaves a whole file or none.
package attachments

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DefaultMaxFileBytes bounds one file when Options.MaxFileBytes is 0.
const DefaultMaxFileBytes = 10 << 20

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

// Options configure Open; nil means the defaults.
type Options struct {
	// MaxFileBytes bounds one file; 0 means DefaultMaxFileBytes.
	MaxFileBytes int64
}

// Store keeps files by content hash. It is safe for concurrent use.
type Store struct {
	dir string
	max int64
}

// Open returns the store under dir, creating it (mode 0700).
func Open(dir string, o *Options) (*Store, error) {
	if o == nil {
		o = &Options{}
	}
	if o.MaxFileBytes < 0 {
		return nil, fmt.Errorf("attachments: MaxFileBytes %d is negative", o.MaxFileBytes)
	}
	s := &Store{dir: dir, max: o.MaxFileBytes}
	if s.max == 0 {
		s.max = DefaultMaxFileBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	return s, nil
}

// MaxFileBytes is the limit of one file.
func (s *Store) MaxFileBytes() int64 { return s.max }

// Put keeps the content of r and returns its SHA-256 (lowercase hex)
// and size. A file over the limit fails with ErrTooLarge and keeps
// nothing; a file kept already is not written again.
func (s *Store) Put(r io.Reader) (sha string, size int64, err error) {
	tmp, err := os.CreateTemp(s.dir, ".upload-*")
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
	if _, err := os.Stat(path); err == nil {
		return sha, n, nil
	}
	if err := tmp.Chmod(0o600); err != nil {
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
// ask it.
func (s *Store) MessageSizes(shas []string, maxTotal int64) ([]int64, error) {
	sizes := make([]int64, len(shas))
	var total int64
	for i, sha := range shas {
		n, err := s.Size(sha)
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

// Remove deletes the file of sha; one that is gone already is no error.
func (s *Store) Remove(sha string) error {
	if !ValidHash(sha) {
		return ErrBadHash
	}
	if err := os.Remove(s.path(sha)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("attachments: remove: %w", err)
	}
	return nil
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
