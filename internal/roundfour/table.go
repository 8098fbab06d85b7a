package roundfour

import (
	"github.com/recgate/recgate/internal/botrounds"
	"github.com/recgate/recgate/properties"
)

// The table's rows and pseudo-invariants are botrounds', shared by every
// round.
const (
	Hung         = botrounds.Hung
	Interference = botrounds.Interference
	Vacuous      = botrounds.Vacuous
)

type (
	// Bug is one buggy wiring (see botrounds.Bug).
	Bug = botrounds.Bug
	// CorrectBot is a wiring that keeps the rule (see botrounds.CorrectBot).
	CorrectBot = botrounds.CorrectBot
)

// Bugs lists the buggy bots of this round.
func Bugs() []Bug {
	return []Bug{
		// More than one call in a process.
		{Name: "RegistryRecreatesEndedCall", Rule: "protocol", New: NewRegistryRecreatesEndedCall, Catches: []string{"P5"},
			Mistake: "fsm.Registry used as get-or-create: the registry forgets an ended call, and the next Start makes a fresh machine that asks Graph to record a call that is over"},
		{Name: "CrossCallGate", Rule: "R1", New: NewCrossCallGate, Catches: []string{"P1", "P7"},
			Mistake: "routes keyed by media source ID alone: a second call's first participant replaces stream 0's route, whose frames then take a lease on the other (consented) call's open gate; the team's test hands every storage to env.Sink"},
		{Name: "CrossCallGateOwnStorage", Rule: "R1", New: NewCrossCallGateOwnStorage, Catches: []string{"P1", "P7"},
			Mistake: "the same MSI-keyed routes, with the other call's storage kept apart from env.Sink: stream 0's frames are recorded into the other call's recording",
			Miss:    missCrossCallOwnStorage},
		// Time.
		{Name: "DebouncedFlush", Rule: "R2", New: NewDebouncedFlush, Catches: []string{"P1", "P7"},
			Mistake: "frames admitted under a lease are batched and written 300 ms after the last frame (debounce) without a lease; the hook flushes storage, not the batch, which lands after notRecording"},
		{Name: "PendingFallback", Rule: "R1", New: NewPendingFallback, Catches: []string{"P1", "P4", "P7"},
			Mistake: "a pending attempt whose notification has not come within 200 ms is completed by the bot itself (a completed update built from Graph's running reply), which fsm accepts"},
		{Name: "SampledStateFlag", Rule: "R2", New: NewSampledStateFlag, Catches: []string{"P1", "P7", "P2"},
			Mistake: "no lease per frame: a ticker samples \"machine is Recording\" into an atomic flag every millisecond, and frames are written straight to storage while it is set; it is stale for up to a millisecond after Stop"},
		// Reports.
		{Name: "ReassertOnReconnect", Rule: "R1", New: NewReassertOnReconnect, Catches: []string{"P1", "P4", "P6"},
			Mistake: "Start while Recording (a media reconnect) sends recording again straight through the Graph client; the gate stays open while it is out and after Graph refused it"},
		{Name: "DeferredReportBeforeDrain", Rule: "R2", New: NewDeferredReportBeforeDrain, Catches: []string{"P2", "P1"},
			Mistake: "hand-rolled Stop defers the drain, then defers the report: the report runs first, while a write is still in progress"},
		{Name: "SegmentContext", Rule: "protocol", New: NewSegmentContext, Catches: []string{"P10"},
			Mistake: "Graph middleware stamps clientContext \"<call>/segment-N/<status>\", N counting recordings that ended: a Start after a refused recording repeats the refused request's clientContext"},
		{Name: "EagerStop", Rule: "protocol", New: NewEagerStop, Catches: []string{"P6", "P5"},
			Mistake: "hand-rolled Stop taken off the control lock so it never waits behind a slow Start: notRecording goes out while Start's recording request is still in flight (and, since Stop no longer looks at the call, after the call ended)"},
		// Writers in front of and behind the gate.
		{Name: "BufioBeforeGate", Rule: "R1", New: NewBufioBeforeGate, Catches: []string{"P7"},
			Mistake: "a 256-byte bufio.Writer in front of Gate.Writer, fed every frame: the gate looks at flush time, so frames buffered before consent go through with the frames that fill the buffer"},
		{Name: "GzipTrailerAfterReport", Rule: "R2", New: NewGzipTrailerAfterReport, Catches: []string{"P1"},
			Mistake: "gzip member per recording, flushed after every frame and by the hook; Close (final block and trailer: CRC-32 and length of the media) comes only at the next Start or at shutdown, after notRecording"},
		{Name: "TeeAfterGate", Rule: "R2", New: NewTeeAfterGate, Catches: []string{"P1", "P2", "P7"},
			Mistake: "io.MultiWriter(gated writer, debug copy): the copy is written only if the gate let the frame through, but after the gated writer released its lease, so a waiting Stop may report before the copy lands"},
	}
}

// Correct lists the correct bots of this round.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "CountingGate", New: NewCountingGate,
			What: "hand-rolled gate: a flag, a count of writes in progress under a sync.Cond, an epoch per close; Stop closes, waits for writes, flushes, then reports"},
		{Name: "RegistryRouted", New: NewRegistryRouted,
			What: "one fsm.Registry, every event looked up by call ID, updates through Registry.Notify; a call the registry forgot has ended and its events are dropped"},
		{Name: "TwoCallsKeyed", New: NewTwoCallsKeyed,
			What: "serves the suite's call and a second, always-recording call in one process, routes keyed by call and media source ID"},
		{Name: "DebouncedFlushDoneRight", New: NewDebouncedFlushDoneRight,
			What: "batches written 300 ms after the last frame under a lease of the timer's own; the hook stops the timer and writes the last batches before it flushes"},
		{Name: "FailAndRestart", New: NewFailAndRestart,
			What: "when storage refuses a write (a fault injected every fifth write) it releases the lease, reports failed through the machine, and sends a new recording request with a new Start, all in the Frame handler"},
		{Name: "GzipClosedInHook", New: NewGzipClosedInHook,
			What: "one gzip member per recording and stream, written under a lease, closed by the hook before it flushes (once vacuous: the sink now follows a member across a stream's writes and reads it)"},
	}
}

// NewCountingGate builds the correct hand-rolled bot.
func NewCountingGate(env *properties.Env) (properties.Bot, error) {
	return newHandBot(callOf(env)), nil
}

// Diagnoses of the rows the suite gets wrong (see the Miss and FalseAlarm
// fields).
const (
	missCrossCallOwnStorage = "the suite's Env is one call and judges only env.Sink: frames of the call under test written into another call's storage (here a bytes.Buffer) are never seen; fix in properties/env.go + doc.go: document that a bot serving several calls must hand every call's storage to the suite (e.g. env.Sink.Stream(k) for k >= env.Streams), which makes the CrossCallGate row catch it"
)
