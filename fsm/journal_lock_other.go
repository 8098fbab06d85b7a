//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package fsm

import (
	"fmt"
	"os"
	"runtime"
)

// lockFile cannot lock on this platform: rather than open a journal that
// a second process could recover under a live one, OpenJournal fails.
func lockFile(path string) (*os.File, bool, error) {
	return nil, false, fmt.Errorf("recgate cannot lock a journal on %s/%s, and a journal without its lock could be recovered by a second process while the first still records; run the bot on Linux, macOS, a BSD or Windows", runtime.GOOS, runtime.GOARCH)
}

// lockDirectory is never reached here: lockFile fails first.
func lockDirectory(string) (*os.File, bool, error) { return nil, false, nil }
