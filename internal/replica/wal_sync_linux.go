package replica

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data and the metadata needed to read it (its
// size), not its times: what a log append needs, one journal commit less
// than fsync.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}
