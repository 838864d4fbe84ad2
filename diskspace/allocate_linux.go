package diskspace

import (
	"os"

	"golang.org/x/sys/unix"
)

// allocate gives f n bytes of disk: fallocate where the filesystem has
// it (at once, and not sparse), else written zeros.
func allocate(f *os.File, n int64) error {
	if err := unix.Fallocate(int(f.Fd()), 0, 0, n); err == nil {
		return nil
	}
	return writeZeros(f, n)
}
