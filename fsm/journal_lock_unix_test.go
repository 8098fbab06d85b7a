//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsm_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// lockChildEnv makes the test binary the child of
// TestJournalHeldByAnotherProcess: it holds the journal in that directory.
const lockChildEnv = "RECGATE_TEST_JOURNAL_LOCK_CHILD"

// The outside team's reproducer, as a test: a bot process records on a
// journal, and a second process (a rolling deploy's new bot) opens the
// same journal. The second OpenJournal fails, naming the first process,
// so it never "recovers" the live recording. Once the first process is
// SIGKILLed and reaped, the kernel has dropped its lock: the next
// OpenJournal succeeds and Recover puts the dead process's trail right.
func TestJournalHeldByAnotherProcess(t *testing.T) {
	if dir := os.Getenv(lockChildEnv); dir != "" {
		holdJournal(dir) // never returns
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestJournalHeldByAnotherProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // the child holds until it is killed (or this pipe closes)
	require.NoError(t, err)
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	reaped := false
	defer func() {
		if !reaped {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()

	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	watchdog := time.NewTimer(30 * time.Second)
	defer watchdog.Stop()
	var childPid int
	for childPid == 0 {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "the child exited before it said it holds the journal")
			if pid, found := strings.CutPrefix(line, "locked "); found {
				childPid, err = strconv.Atoi(pid)
				require.NoError(t, err, line)
			}
		case <-watchdog.C:
			t.Fatal("watchdog: the child did not print \"locked\" within 30 s")
		}
	}
	require.Equal(t, cmd.Process.Pid, childPid)

	_, err = fsm.OpenJournal(dir)
	require.ErrorIs(t, err, fsm.ErrJournalInUse, "the live process's journal must not open")
	assert.Contains(t, err.Error(), fmt.Sprintf("process %d holds its lock", childPid))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, err = fsm.OpenJournalWait(ctx, dir)
	cancel()
	require.ErrorIs(t, err, fsm.ErrJournalInUse)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait() // reaped: "signal: killed"
	reaped = true

	j := openJournal(t, dir)
	u := &fakeUpdater{}
	rep, err := j.Recover(context.Background(), u, nil)
	require.NoError(t, err)
	require.Len(t, rep.Calls, 1, "the child's trail")
	assert.Equal(t, fsm.RecoveryReported, rep.Calls[0].Outcome, "the dead child's recording is recovered")
	assert.Equal(t, []graph.Status{graph.StatusFailed}, u.statuses())
}

// holdJournal is the child: it opens the journal, records on it, says
// "locked PID", and waits until it is killed (or its stdin closes).
func holdJournal(dir string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "lock child:", err)
		os.Exit(2)
	}
	j, err := fsm.OpenJournal(dir)
	if err != nil {
		fail(err)
	}
	f, err := j.Create(journalCall)
	if err != nil {
		fail(err)
	}
	m, err := fsm.New(journalCall, &fakeUpdater{}, fsm.WithAuditTrail(f))
	if err != nil {
		fail(err)
	}
	if _, err := m.Start(context.Background()); err != nil || !m.Gate().IsOpen() {
		fail(fmt.Errorf("start: %v, gate open %v", err, m.Gate().IsOpen()))
	}
	fmt.Printf("locked %d\n", os.Getpid())
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}
