package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// pausingFile is a media file whose Nth write (with -pause-at write:N)
// puts half the frame on disk and then pauses: a SIGKILL there leaves a
// torn frame, written under a lease.
type pausingFile struct {
	c *crashSafe
	f *os.File
}

func (p pausingFile) Write(b []byte) (int, error) {
	if p.c.reaches("write") {
		n, _ := p.f.Write(b[:len(b)/2])
		_ = p.f.Sync()
		p.c.say("paused write (%d of %d bytes on disk)", n, len(b))
		select {}
	}
	return p.f.Write(b)
}

// reaches counts one passage of point and reports whether it is the one
// to pause at (the caller pauses).
func (c *crashSafe) reaches(point string) bool {
	c.pauseMu.Lock()
	defer c.pauseMu.Unlock()
	c.passed[point]++
	return point == c.cs.pausePoint && c.passed[point] == c.cs.pauseAt
}

// update is the machine's Updater: the client, with the kill points.
func (c *crashSafe) update(ctx context.Context, callID string, s graph.Status, cc string) (graph.Operation, error) {
	if s != graph.StatusRecording {
		c.pass("report")
		return c.client.UpdateRecordingStatus(ctx, callID, s, cc)
	}
	c.pass("start-request")
	op, err := c.client.UpdateRecordingStatus(ctx, callID, s, cc)
	c.pass("start-reply")
	return op, err
}

// record is one life's recording: a new trail in the journal, Start,
// frames, Stop, the call's end.
func (c *crashSafe) record(ctx context.Context, j *fsm.Journal) error {
	trail, err := j.Create(c.opt.callID)
	if err != nil {
		return err
	}
	defer trail.Close()
	base := strings.TrimSuffix(filepath.Base(trail.Name()), ".jsonl")
	prefix := mediaPrefix(c.cs.dir, trail.Name())
	files := make([]*os.File, c.opt.streams)
	for s := range files {
		if files[s], err = os.OpenFile(fmt.Sprintf("%s-stream-%d.frames", prefix, s), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			return err
		}
		defer files[s].Close()
	}
	hook := func(_ context.Context, why fsm.Trigger) error {
		c.pass("hook")
		var errs []error
		for _, f := range files {
			errs = append(errs, f.Sync())
		}
		c.say("hook: %d files synced (after %s)", len(files), why)
		return errors.Join(errs...)
	}
	m, err := fsm.New(c.opt.callID, fsm.UpdaterFunc(c.update), fsm.WithAuditTrail(trail), fsm.WithRecordingEndedHook(hook))
	if err != nil {
		return err
	}
	writers := make([]*fsm.Writer, len(files))
	for s, f := range files {
		writers[s] = m.Gate().Writer(pausingFile{c: c, f: f})
	}
	c.say("life %s", base)
	if _, err := m.Start(ctx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	c.say("started %s", m.State())
	for tick := 0; tick < c.cs.frames; tick++ {
		for s, w := range writers {
			if _, err := w.Write(encodeFrame(s, tick, time.Now())); err != nil {
				c.say("refused %s %d %d: %v", base, s, tick, err)
				continue
			}
			if err := files[s].Sync(); err != nil {
				return fmt.Errorf("syncing stream %d: %w", s, err)
			}
			c.say("persisted %s %d %d", base, s, tick)
		}
	}
	if err := m.Stop(ctx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	c.say("stopped")
	if err := m.CallEnded(ctx); err != nil {
		return fmt.Errorf("call ended: %w", err)
	}
	if err := m.AuditErr(); err != nil {
		return err
	}
	c.say("done %s", base)
	return nil
}
