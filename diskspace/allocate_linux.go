package diskspace

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// allocate gives f n bytes of disk: fallocate, at once and not sparse;
// written zeros only where the filesystem has no fallocate (never after
// ENOSPC, which writing would only turn into a full disk).
func allocate(f *os.File, n int64) error {
	err := unix.Fallocate(int(f.Fd()), 0, 0, n)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return writeZeros(f, n)
	}
	return err
}
