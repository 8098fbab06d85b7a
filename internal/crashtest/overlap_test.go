package crashtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// The outside team's reproducer: two bot processes on one journal
// directory, as in a rolling deploy that starts the new bot before the old
// one is gone. The first bot is recording (paused in the middle of a
// frame's write, its gate open). The second must not recover the live
// recording: it exits with an error naming the first one's pid, sends
// Graph nothing, seals (truncates) no media file and moves no trail. Once
// the first bot is SIGKILLed and reaped, a new bot recovers its recording.
func TestOverlappingBotLeavesTheLiveJournalAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bot and runs three of them: not in -short")
	}
	bin := buildBot(t)
	fake := graphtest.NewServer(graphtest.WithToken(token), graphtest.WithPlainHTTP())
	defer fake.Close()
	fake.AddCall(callID)
	dir := t.TempDir()
	base := []string{"-crash-safe-dir", dir, "-graph-url", fake.BaseURL(), "-token", token, "-call-id", callID,
		"-streams", "1", "-frames", "4"}

	first := start(t, bin, append(base, "-pause-at", "write:2")...)
	waitForLine(t, first, "paused write", "the first bot to pause in a frame's write")
	media := sizes(t, filepath.Join(dir, "media"))
	trails := sizes(t, filepath.Join(dir, "journal"))
	sent := len(fake.Requests())

	ctx, cancel := context.WithTimeout(context.Background(), lifeLimit)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, base...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("watchdog: the second bot still ran after %s:\n%s", lifeLimit, out)
	}
	if err == nil {
		t.Fatalf("the second bot ran on the live bot's journal:\n%s", out)
	}
	for _, want := range []string{"in use", fmt.Sprintf("process %d holds its lock", first.cmd.Process.Pid), "rolling deploy"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the second bot's error does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "recovered ") || strings.Contains(string(out), "sealed ") {
		t.Errorf("the second bot recovered something:\n%s", out)
	}
	if n := len(fake.Requests()); n != sent {
		t.Errorf("the second bot sent Graph %d requests: %v", n-sent, fake.Requests()[sent:])
	}
	if after := sizes(t, filepath.Join(dir, "media")); !equalSizes(media, after) {
		t.Errorf("the live bot's media files changed: %v, then %v", media, after)
	}
	if after := sizes(t, filepath.Join(dir, "journal")); !equalSizes(trails, after) {
		t.Errorf("the live bot's journal changed: %v, then %v", trails, after)
	}

	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	reap(t, first)
	_, lines := start(t, bin, append(base, "-recover-only")...).follow(t, "the bot after the first one's death", nil, map[frameKey]bool{})
	if !containsPrefix(lines, "recovered ") {
		t.Errorf("the next bot did not recover the killed one's recording:\n%s", strings.Join(lines, "\n"))
	}
	failed := 0
	for _, r := range fake.Requests() {
		if graph.Status(r.Status) == graph.StatusFailed {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("Graph got failed %d times; want once, from the bot after the kill", failed)
	}
	checkGraphLog(t, fake.Requests())
}

// waitForLine reads the life's lines until one starts with prefix.
func waitForLine(t *testing.T, l *life, prefix, what string) {
	t.Helper()
	watchdog := time.NewTimer(lifeLimit)
	defer watchdog.Stop()
	var seen []string
	for {
		select {
		case line, ok := <-l.lines:
			if !ok {
				t.Fatalf("waiting for %s: the bot exited:\n%s", what, strings.Join(seen, "\n"))
			}
			if strings.HasPrefix(line, prefix) {
				return
			}
			seen = append(seen, line)
		case <-watchdog.C:
			t.Fatalf("watchdog: %s did not happen within %s:\n%s", what, lifeLimit, strings.Join(seen, "\n"))
		}
	}
}

// reap waits until the killed life's output ends and reaps the process.
func reap(t *testing.T, l *life) {
	t.Helper()
	watchdog := time.NewTimer(lifeLimit)
	defer watchdog.Stop()
	for {
		select {
		case _, ok := <-l.lines:
			if !ok {
				_ = l.cmd.Wait() // "signal: killed"
				return
			}
		case <-watchdog.C:
			t.Fatalf("watchdog: the killed bot's output did not end within %s", lifeLimit)
		}
	}
}

// sizes maps each file in dir to its size.
func sizes(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fi.Size()
	}
	return out
}

func equalSizes(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
