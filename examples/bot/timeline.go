package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
)

// timeline prints what happens, with the time since the start: the
// machine's events (from its observer), the bot's notes, and the media
// frames, summed up in runs of accepted or refused.
type timeline struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time

	runFrom, runTo int
	runOK          bool
	runFrames      int
}

func newTimeline(w io.Writer) *timeline {
	return &timeline{w: w, start: time.Now(), runFrom: -1}
}

func (t *timeline) printf(format string, args ...any) {
	fmt.Fprintf(t.w, "  +%7.3fs  %s\n", time.Since(t.start).Seconds(), fmt.Sprintf(format, args...))
}

func (t *timeline) note(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.printf(format, args...)
}

// frame counts one frame; a change from accepted to refused starts a run.
func (t *timeline) frame(tick int, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.runFrom >= 0 && ok != t.runOK {
		t.flushLocked()
	}
	if t.runFrom < 0 {
		t.runFrom, t.runOK = tick, ok
	}
	t.runTo = tick
	t.runFrames++
}

func (t *timeline) flushFrames() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.flushLocked()
}

func (t *timeline) flushLocked() {
	if t.runFrom < 0 {
		return
	}
	verdict := "refused (gate closed: not persisted)"
	if t.runOK {
		verdict = "accepted and persisted"
	}
	t.printf("media: ticks %d-%d, %d frames %s", t.runFrom, t.runTo, t.runFrames, verdict)
	t.runFrom, t.runFrames = -1, 0
}

// event prints one machine event.
func (t *timeline) event(e fsm.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.flushLocked()
	switch e.Kind {
	case fsm.EventTransition:
		t.printf("state: %s -> %s (%s)", e.From, e.To, e.Trigger)
	case fsm.EventRequest:
		t.printf("graph: POST updateRecordingStatus %s (clientContext %s)", e.Status, e.ClientContext)
	case fsm.EventReply:
		if e.Err != nil {
			t.printf("graph: reply to %s: %v", e.Status, e.Err)
			return
		}
		t.printf("graph: reply to %s: operation %s (request-id %s)", e.Status, e.Operation.Status, e.Operation.RequestID)
	case fsm.EventGate:
		if e.Open {
			t.printf("gate: OPEN (epoch %d)", e.Epoch)
		} else {
			t.printf("gate: closed (%s)", e.Trigger)
		}
	case fsm.EventLeasesDrained:
		t.printf("gate: every lease released")
	case fsm.EventUpdate:
		// Ignored updates are told by the registry's note.
		if e.Err == nil && e.Via == fsm.ViaNotification {
			t.printf("update: operation %s, by a notification whose token %s vouched for (tenant %s)", e.Operation.Status, e.Issuer, e.Tenant)
		} else if e.Err == nil {
			t.printf("update: operation %s (%s)", e.Operation.Status, e.Via)
		}
	case fsm.EventHookRan:
	}
}
