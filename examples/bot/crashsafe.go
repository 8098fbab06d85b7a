package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// The crash-safe mode (-crash-safe-dir) is the bot a supervisor restarts:
// at start-up it recovers what a killed predecessor left in the journal
// (seals its media files, reports failed to Graph), then records one call
// against -graph-url: Start, -frames frames per stream, each written through
// the gate, synced, and acknowledged on stdout, then Stop. It talks to a
// Graph that answers at once (no callback server), such as the fake.
//
// Every step a test may want to kill it at prints a line; -pause-at
// POINT:N makes the bot print "paused POINT" at the Nth time it passes
// POINT and then wait for ever, so that the test's SIGKILL lands exactly
// there. The points: start-request, start-reply, write (half a frame is on
// disk), hook (the leases drained, nothing sealed yet), report (the files
// sealed, notRecording not sent), recover-hook and recover-report.

// Frames on disk: fixed size, so a torn frame is a short tail.
const (
	frameSize   = 64
	frameMagic  = "RGF1"
	framePayOff = 24
)

// EncodeFrame is one frame: magic, stream, tick, the time it arrived, a
// payload that depends on all three, and a CRC of the rest.
func encodeFrame(stream, tick int, arrived time.Time) []byte {
	p := make([]byte, frameSize)
	copy(p, frameMagic)
	binary.LittleEndian.PutUint32(p[4:], uint32(stream))
	binary.LittleEndian.PutUint64(p[8:], uint64(tick))
	binary.LittleEndian.PutUint64(p[16:], uint64(arrived.UnixNano()))
	for i := framePayOff; i < frameSize-4; i++ {
		p[i] = byte(stream*31 + tick*7 + i)
	}
	binary.LittleEndian.PutUint32(p[frameSize-4:], crc32.ChecksumIEEE(p[:frameSize-4]))
	return p
}

type crashSafeOptions struct {
	dir         string
	recoverOnly bool
	frames      int
	pausePoint  string
	pauseAt     int
}

func parsePause(s string) (string, int, error) {
	if s == "" {
		return "", 0, nil
	}
	name, n, ok := strings.Cut(s, ":")
	k, err := strconv.Atoi(n)
	if !ok || err != nil || k < 1 {
		return "", 0, fmt.Errorf("-pause-at %q: want POINT:N with N >= 1", s)
	}
	switch name {
	case "start-request", "start-reply", "write", "hook", "report", "recover-hook", "recover-report":
		return name, k, nil
	}
	return "", 0, fmt.Errorf("-pause-at %q: unknown point %q", s, name)
}

// crashSafe is one life of the crash-safe bot.
type crashSafe struct {
	opt    options
	cs     crashSafeOptions
	stdout io.Writer
	outMu  sync.Mutex
	client *graph.Client

	pauseMu sync.Mutex
	passed  map[string]int // guarded by pauseMu
}

func (c *crashSafe) say(format string, args ...any) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	fmt.Fprintf(c.stdout, format+"\n", args...)
}

// pass counts one passage of point and, if it is the one -pause-at names,
// says so and waits for ever (for the SIGKILL).
func (c *crashSafe) pass(point string) {
	if c.reaches(point) {
		c.say("paused %s", point)
		select {}
	}
}

func runCrashSafe(ctx context.Context, opt options, cs crashSafeOptions, stdout io.Writer) error {
	if opt.graphURL == "" || opt.token == "" {
		return errors.New("-crash-safe-dir needs -graph-url and -token: it records against a Graph that answers at once (run examples/fakegraph, or a test's fake)")
	}
	client, err := graph.NewClient(graph.StaticToken(opt.token), graph.WithBaseURL(opt.graphURL),
		graph.WithBackoff(5*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		return err
	}
	c := &crashSafe{opt: opt, cs: cs, stdout: stdout, client: client, passed: map[string]int{}}
	// The journal's lock keeps this life out of a journal a live bot
	// still records on (a rolling deploy that overlaps two bots): the
	// open fails, naming that process, and nothing is recovered. A
	// killed predecessor's lock is gone with it.
	j, err := fsm.OpenJournal(filepath.Join(cs.dir, "journal"))
	if err != nil {
		return err
	}
	defer j.Close()
	if err := os.MkdirAll(filepath.Join(cs.dir, "media"), 0o755); err != nil {
		return err
	}
	c.say("recovering %s", j.Dir())
	rep, err := j.Recover(ctx, fsm.UpdaterFunc(c.recoveryUpdate), c.recoveryHook)
	for _, r := range rep.Calls {
		if r.Outcome != fsm.RecoveryClean {
			c.say("recovered %s %s %s", filepath.Base(r.Trail), r.CallID, r.Outcome)
		}
	}
	if err != nil {
		return fmt.Errorf("recovery: %w", err)
	}
	c.say("recovery done: %d trails, %d clean", len(rep.Calls), rep.Count(fsm.RecoveryClean))
	// The trails of calls over for good leave the journal (they are kept,
	// as evidence), so the next start-up reads only the calls in flight.
	arch, err := j.ArchiveEnded(filepath.Join(cs.dir, "journal-ended"))
	if err != nil {
		return fmt.Errorf("archiving the ended calls' trails: %w", err)
	}
	c.say("archived %d trails, %d kept", len(arch.Moved), arch.Kept)
	if cs.recoverOnly {
		return nil
	}
	return c.record(ctx, j)
}

func (c *crashSafe) recoveryUpdate(ctx context.Context, callID string, s graph.Status, cc string) (graph.Operation, error) {
	c.pass("recover-report")
	return c.client.UpdateRecordingStatus(ctx, callID, s, cc)
}

// recoveryHook seals a dead life's media files.
func (c *crashSafe) recoveryHook(_ context.Context, call fsm.InterruptedCall) error {
	c.pass("recover-hook")
	return c.seal(mediaPrefix(c.cs.dir, call.Trail))
}

// mediaPrefix names a life's media files after its trail.
func mediaPrefix(dir, trail string) string {
	return filepath.Join(dir, "media", strings.TrimSuffix(filepath.Base(trail), ".jsonl"))
}

// seal cuts every media file of a life to its last whole frame and syncs
// it: what was acknowledged stays, a torn frame goes.
func (c *crashSafe) seal(prefix string) error {
	files, err := filepath.Glob(prefix + "-stream-*.frames")
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range files {
		errs = append(errs, sealFile(name))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	c.say("sealed %s (%d files)", filepath.Base(prefix), len(files))
	return nil
}

func sealFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if torn := st.Size() % frameSize; torn != 0 {
		if err := f.Truncate(st.Size() - torn); err != nil {
			return fmt.Errorf("sealing %s: %w", name, err)
		}
	}
	return f.Sync()
}
