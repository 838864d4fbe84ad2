package attachments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPutOpenRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "attachments")
	clock := &testClock{t: epoch}
	s, err := Open(dir, &Options{MaxFileBytes: 16, Holders: &fakeHolders{}, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("hello, invoice")
	want := sha256.Sum256(content)
	sha, size, err := s.Put(bytes.NewReader(content))
	if err != nil || sha != hex.EncodeToString(want[:]) || size != int64(len(content)) {
		t.Fatalf("Put: got %s %d %v, want the content's hash and size", sha, size, err)
	}
	again, _, err := s.Put(bytes.NewReader(content))
	if err != nil || again != sha {
		t.Fatalf("Put again: got %s %v", again, err)
	}
	f, err := s.Open(sha)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	st, _ := f.Stat()
	f.Close()
	if !bytes.Equal(got, content) || st.Mode().Perm() != 0o600 {
		t.Errorf("content %q mode %v, want the upload, 0600", got, st.Mode().Perm())
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("directory mode: %v %v, want 0700", info.Mode().Perm(), err)
	}
	if n, err := s.Size(sha); err != nil || n != int64(len(content)) {
		t.Errorf("Size: %d %v", n, err)
	}
	if _, _, err := s.Put(strings.NewReader(strings.Repeat("x", 17))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("17 bytes over a limit of 16: got %v, want ErrTooLarge", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".upload-") {
			t.Errorf("a temporary file stayed: %s", e.Name())
		}
	}
	for _, bad := range []string{"", "../../etc/passwd", strings.Repeat("A", 64), strings.Repeat("a", 63)} {
		if _, err := s.Open(bad); !errors.Is(err, ErrBadHash) {
			t.Errorf("Open(%q): got %v, want ErrBadHash", bad, err)
		}
	}
	clock.advance(DefaultSweepAfter + time.Second)
	if removed, err := s.Remove(context.Background(), sha); err != nil || !removed {
		t.Fatalf("Remove: got %v %v, want removed", removed, err)
	}
	if _, err := s.Open(sha); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Remove: got %v, want ErrNotFound", err)
	}
	if removed, err := s.Remove(context.Background(), sha); err != nil || removed {
		t.Errorf("Remove twice: got %v %v, want nothing removed and no error", removed, err)
	}
	if _, err := s.Remove(context.Background(), "../x"); !errors.Is(err, ErrBadHash) {
		t.Errorf("Remove(../x): got %v, want ErrBadHash", err)
	}
}

// A message's files: each must be kept, and together within the
// message's limit.
func TestMessageSizes(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "attachments"), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := s.Put(strings.NewReader("12345"))
	b, _, _ := s.Put(strings.NewReader("123"))
	if sizes, err := s.MessageSizes([]string{a, b}, 8); err != nil || len(sizes) != 2 || sizes[0] != 5 || sizes[1] != 3 {
		t.Errorf("8 bytes within 8: got %v %v, want [5 3]", sizes, err)
	}
	if _, err := s.MessageSizes([]string{a, b}, 7); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("8 bytes over 7: got %v, want ErrMessageTooLarge", err)
	}
	var fe *FileError
	if _, err := s.MessageSizes([]string{a, strings.Repeat("0", 64)}, 100); !errors.As(err, &fe) || fe.Index != 1 || !errors.Is(err, ErrNotFound) {
		t.Errorf("a file not kept: got %v, want a FileError of index 1 wrapping ErrNotFound", err)
	}
	if _, err := s.MessageSizes([]string{"../x"}, 100); !errors.As(err, &fe) || fe.Index != 0 || !errors.Is(err, ErrBadHash) {
		t.Errorf("not a hash: got %v, want a FileError of index 0 wrapping ErrBadHash", err)
	}
}

func FuzzValidHash(f *testing.F) {
	f.Add(strings.Repeat("0", 64)) // a valid hash
	f.Add("../x")                  // a path
	f.Fuzz(func(t *testing.T, s string) {
		if ValidHash(s) && (len(s) != 64 || strings.ContainsAny(s, "./\\")) {
			t.Errorf("%q accepted", s)
		}
	})
}
