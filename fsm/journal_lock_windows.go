//go:build windows

package fsm

import (
	"errors"
	"os"
	"syscall"
)

// errSharingViolation is Windows' ERROR_SHARING_VIOLATION.
const errSharingViolation syscall.Errno = 32

// lockFile opens (creating it if needed) the lock file at path for writing
// while sharing it with readers only: a second open for writing, in this
// process or another, fails with a sharing violation until the handle is
// closed, which Windows does when the process dies. busy reports that.
// Readers may still read the holder's pid.
func lockFile(path string) (f *os.File, busy bool, err error) {
	name, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, false, err
	}
	h, err := syscall.CreateFile(name, syscall.GENERIC_READ|syscall.GENERIC_WRITE, syscall.FILE_SHARE_READ, nil,
		syscall.OPEN_ALWAYS, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, errors.Is(err, errSharingViolation), &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), false, nil
}

// lockDirectory has nothing to add on Windows: the lock file is held open
// without delete sharing, so it cannot be deleted while its owner runs.
func lockDirectory(string) (*os.File, bool, error) { return nil, false, nil }
