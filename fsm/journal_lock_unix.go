//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsm

import (
	"errors"
	"os"
	"syscall"
)

// lockFile opens (creating it if needed) the lock file at path and takes
// an exclusive flock on it without waiting. busy reports that another open
// file holds it (another process, or another open in this one: flock locks
// belong to the open file, not the process). The descriptor is close-on-
// exec, so a child process never inherits the lock.
func lockFile(path string) (f *os.File, busy bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, err
	}
	return flockOrClose(f)
}

// lockDirectory takes an exclusive flock on the journal directory itself,
// beside the one on its lock file: a lock file deleted while its owner
// runs (a tidy-up of dot files, a tmp cleaner) would let a second process
// create a new one and lock that, while the directory stays the same
// inode for as long as the journal exists.
//
// Where the file system cannot flock a directory opened for reading (NFS
// and CIFS emulate flock with fcntl locks, which want a descriptor open
// for writing), the journal goes on with its file's lock alone.
func lockDirectory(dir string) (d *os.File, busy bool, err error) {
	d, err = os.Open(dir)
	if err != nil {
		return nil, false, err
	}
	d, busy, err = flockOrClose(d)
	if errors.Is(err, syscall.EBADF) || errors.Is(err, syscall.ENOLCK) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EINVAL) {
		return nil, false, nil
	}
	return d, busy, err
}

// flockOrClose takes an exclusive flock on f without waiting, or closes f.
func flockOrClose(f *os.File) (*os.File, bool, error) {
	var err error
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, errors.Is(err, syscall.EWOULDBLOCK), err
	}
	return f, false, nil
}
