package crashtest

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

var (
	kills = flag.Int("kills", 12, "how many SIGKILLs to draw")
	seed  = flag.Uint64("seed", 0, "the draw's seed (0: from the clock; the test logs it)")
)

const (
	callID  = "c4a5e000-0000-4000-8000-00000000dead"
	token   = "crash-test-token"
	streams = 2
	frames  = 12 // per stream and life
	// lifeLimit is how long one life may take before the watchdog kills
	// it and names what it was waiting for.
	lifeLimit = 20 * time.Second
)

// killPoint is where a life is killed: at a -pause-at point (the bot
// pauses there and says so), or, for "frame", as soon as it acknowledges
// its nth frame, while it runs on.
type killPoint struct {
	point string
	nth   int
}

func (k killPoint) String() string { return fmt.Sprintf("%s:%d", k.point, k.nth) }

func draw(rng *rand.Rand) killPoint {
	points := []string{"frame", "frame", "write", "write", "start-request", "start-reply", "hook", "report", "recover-hook", "recover-report"}
	k := killPoint{point: points[rng.IntN(len(points))], nth: 1}
	if k.point == "frame" || k.point == "write" {
		k.nth = 1 + rng.IntN(frames*streams)
	}
	return k
}

type frameKey struct {
	life           string
	stream, tickNo int
}

// life is one run of the bot: its output lines, as they come.
type life struct {
	cmd   *exec.Cmd
	lines chan string
}

func start(t *testing.T, bin string, args ...string) *life {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the bot: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // a no-op once it has exited
	l := &life{cmd: cmd, lines: make(chan string, 256)}
	go func() {
		defer close(l.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			l.lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	return l
}

// follow reads the life's lines until stop says to kill it (then it kills
// it) or the output ends; it returns whether the kill happened, and every
// line.
func (l *life) follow(t *testing.T, what string, stop func(line string) bool, acked map[frameKey]bool) (killed bool, lines []string) {
	t.Helper()
	watchdog := time.NewTimer(lifeLimit)
	defer watchdog.Stop()
	for {
		select {
		case line, ok := <-l.lines:
			if !ok {
				err := l.cmd.Wait()
				if !killed && err != nil {
					t.Fatalf("%s: the bot failed: %v\n%s", what, err, strings.Join(lines, "\n"))
				}
				return killed, lines
			}
			lines = append(lines, line)
			if k, ok := parseAck(line); ok {
				acked[k] = true
			}
			if !killed && stop != nil && stop(line) {
				if err := l.cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatalf("%s: SIGKILL: %v", what, err)
				}
				killed = true
			}
		case <-watchdog.C:
			_ = l.cmd.Process.Kill()
			t.Fatalf("watchdog: %s still running after %s; its output:\n%s", what, lifeLimit, strings.Join(lines, "\n"))
		}
	}
}

// parseAck reads "persisted LIFE STREAM TICK".
func parseAck(line string) (frameKey, bool) {
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "persisted" {
		return frameKey{}, false
	}
	s, err1 := strconv.Atoi(f[2])
	n, err2 := strconv.Atoi(f[3])
	return frameKey{life: f[1], stream: s, tickNo: n}, err1 == nil && err2 == nil
}

// The bot is built once for the package's tests, into a directory
// TestMain removes.
var (
	botOnce sync.Once
	botDir  string
	botBin  string
	botErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if botDir != "" {
		_ = os.RemoveAll(botDir)
	}
	os.Exit(code)
}

func buildBot(t *testing.T) string {
	t.Helper()
	botOnce.Do(func() {
		if botDir, botErr = os.MkdirTemp("", "crashtest-bot-"); botErr != nil {
			return
		}
		botBin = filepath.Join(botDir, "bot")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", botBin, "github.com/recgate/recgate/examples/bot").CombinedOutput()
		if err != nil {
			botErr = fmt.Errorf("%w\n%s", err, out)
		}
	})
	if botErr != nil {
		t.Fatalf("building examples/bot: %v", botErr)
	}
	return botBin
}

func TestSIGKILLAndRecover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bot and kills it: not in -short")
	}
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed %d), %d kills", s, s, *kills)
	rng := rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
	bin := buildBot(t)
	fake := graphtest.NewServer(graphtest.WithToken(token), graphtest.WithPlainHTTP())
	defer fake.Close()
	fake.AddCall(callID)
	dir := t.TempDir()
	base := []string{"-crash-safe-dir", dir, "-graph-url", fake.BaseURL(), "-token", token, "-call-id", callID,
		"-streams", strconv.Itoa(streams), "-frames", strconv.Itoa(frames)}

	acked := map[frameKey]bool{}
	reached, recoveries := map[string]int{}, 0
	for i := 0; i < *kills; i++ {
		k := draw(rng)
		args := append([]string(nil), base...)
		stop := func(line string) bool { return strings.HasPrefix(line, "paused ") }
		if k.point == "frame" {
			n := 0
			stop = func(line string) bool {
				if _, ok := parseAck(line); ok {
					n++
				}
				return n == k.nth
			}
		} else {
			args = append(args, "-pause-at", k.String())
		}
		killed, lines := start(t, bin, args...).follow(t, fmt.Sprintf("life %d (kill at %s)", i, k), stop, acked)
		for _, line := range lines {
			if strings.HasPrefix(line, "recovered ") {
				recoveries++
			}
		}
		if killed {
			reached[k.point]++
		} else {
			reached["not reached: "+k.point]++
		}
	}
	// The last life only recovers.
	_, lines := start(t, bin, append(base, "-recover-only")...).follow(t, "the final recovery", nil, acked)
	for _, line := range lines {
		if strings.HasPrefix(line, "recovered ") {
			recoveries++
		}
	}
	t.Logf("kill points: %v; recoveries: %d; frames acknowledged: %d", reached, recoveries, len(acked))
	if recoveries == 0 && *kills > 0 {
		t.Errorf("no life recovered anything: the kills tested nothing")
	}

	intervals := checkGraphLog(t, fake.Requests())
	checkJournal(t, filepath.Join(dir, "journal"), filepath.Join(dir, "journal-ended"))
	checkMedia(t, filepath.Join(dir, "media"), intervals, acked)
}

// interval is a confirmed recording interval as Graph saw it: from the
// arrival of a recording request it answered completed to the arrival of
// the next notRecording or failed.
type interval struct{ from, to time.Time }

// checkGraphLog checks that no recording was asked for while an earlier
// one had not been reported ended, and that none is left unreported; it
// returns the confirmed intervals.
func checkGraphLog(t *testing.T, log []graphtest.Request) []interval {
	t.Helper()
	var out []interval
	exposed, open := false, -1
	statuses := 0
	for _, r := range log {
		if r.CallID != callID || r.Status == "" {
			continue
		}
		statuses++
		switch graph.Status(r.Status) {
		case graph.StatusRecording:
			if exposed {
				t.Errorf("Graph got a new recording (%s at %s) before failed or notRecording for the one before", r.ClientContext, r.Time.Format(time.RFC3339Nano))
			}
			exposed = true
			if strings.EqualFold(r.OperationStatus, string(graph.OperationCompleted)) {
				out = append(out, interval{from: r.Time})
				open = len(out) - 1
			}
		case graph.StatusNotRecording, graph.StatusFailed:
			exposed = false
			if open >= 0 {
				out[open].to = r.Time
				open = -1
			}
		}
	}
	if exposed {
		t.Errorf("the last recording was never reported ended to Graph")
	}
	t.Logf("Graph's log: %d updates, %d confirmed intervals", statuses, len(out))
	return out
}

// checkJournal verifies every trail, the ones the bot archived (ended)
// too, and that recovering the journal again finds nothing to do.
func checkJournal(t *testing.T, dir, ended string) {
	t.Helper()
	j, err := fsm.OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	trails, err := j.Trails()
	if err != nil {
		t.Fatal(err)
	}
	archived, err := filepath.Glob(filepath.Join(ended, "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("journal: %d trails, %d archived", len(trails), len(archived))
	for _, path := range append(append([]string(nil), trails...), archived...) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := fsm.VerifyAuditTrail(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
			continue
		}
		for _, iv := range fsm.AuditIntervals(recs) {
			if len(iv.Findings) > 0 {
				t.Errorf("%s: interval opened at record %d: %v", filepath.Base(path), iv.Opened.Seq, iv.Findings)
			}
		}
	}
	sent := 0
	u := fsm.UpdaterFunc(func(context.Context, string, graph.Status, string) (graph.Operation, error) {
		sent++
		return graph.Operation{}, fmt.Errorf("nothing should be sent")
	})
	rep, err := j.Recover(context.Background(), u, nil)
	if err != nil || sent > 0 || rep.Count(fsm.RecoveryClean) != len(trails) {
		t.Errorf("a further recovery did something: %d of %d trails clean, %d requests, err %v", rep.Count(fsm.RecoveryClean), len(trails), sent, err)
	}
	// An archived trail is one no recovery would ever need.
	for _, path := range archived {
		if c := fsm.RecoverTrail(context.Background(), path, u, nil); c.Outcome != fsm.RecoveryClean {
			t.Errorf("archived trail %s: a recovery would find it %s (%v)", filepath.Base(path), c.Outcome, c.Err)
		}
	}
	if sent > 0 {
		t.Errorf("recovering the archived trails sent %d requests", sent)
	}
}
