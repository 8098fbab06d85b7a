package roundsix

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
		// fsm.Gate.Writer and Stream lifecycle.
		{Name: "StaleStreamBusyWrite", Rule: "R1", New: NewStaleStreamBusyWrite, Catches: []string{"P1", "P7", "P9"},
			Mistake: "Streams rotated per recording (the hook closes them) while each recorder keeps the first one; its Acquire then says ErrStreamClosed, which the recorder reads, as it reads ErrStreamBusy, as \"someone holds a lease, so the gate is open\" and writes without one"},
		{Name: "MultiWriterArchiveFirst", Rule: "R1", New: NewMultiWriterArchiveFirst, Catches: []string{"P1", "P7"},
			Mistake: "io.MultiWriter(archive, Gate.Writer): the order of TeeAfterGate reversed so that \"the archive is written only if the gated write could\"; MultiWriter writes in order, so the archive gets every frame first"},
		{Name: "RetryClosedWrite", Rule: "R1", New: NewRetryClosedWrite, Catches: []string{"P7"},
			Mistake: "a generic retry-the-last-failed-write wrapper around Gate.Writer: a frame refused with ErrGateClosed waits in the retry slot and is written at the stream's first frame after the next completed"},
		{Name: "PreRollOnControlStream", Rule: "R1", New: NewPreRollOnControlStream, Catches: []string{"P7"},
			Options: []properties.Option{properties.WithUntracedStreams(ContextStream)},
			Mistake: "a \"context before recording\" note, quoting the last frame heard before consent on each stream, written to a stream declared media-free with WithUntracedStreams when the gate opens"},
		// Flags and what the bot tells the suite.
		{Name: "FlagClearedAfterStop", Rule: "R2", New: NewFlagClearedAfterStop, Catches: []string{"P1", "P2", "P7", "P9"},
			Mistake: "frames persisted while an application flag is set; the flag is cleared after the machine's Stop returned (\"once Graph has been told\"); the GateReporter tells the truth about fsm's gate, not about the flag"},
		{Name: "GateOpenedOnPending", Rule: "R1", New: NewGateOpenedOnPending, Catches: []string{"P4", "P7", "P1"},
			Mistake: "\"err == nil, so recording\": fsm's Start returns nil for a pending reply too; the bot calls env.GateOpened when its own flag flips and writes without a lease"},
		// Start/Stop storms.
		{Name: "DebouncedStop", Rule: "R2", New: NewDebouncedStop, Catches: []string{"P9", "P7"},
			Mistake: "a Stop or Fail within 50 ms of the last Start is taken for a UI bounce and ignored (returns nil): the recording goes on, Graph is never told"},
		{Name: "CoalescedStartStop", Rule: "R1", New: NewCoalescedStartStop, Catches: []string{"P9", "P7"},
			Mistake: "a Stop that comes while Start waits for Graph is only noted, and run by Start after Graph answered: a completed opens the gate, and frames are persisted until that Stop closes it"},
		// Media mixing.
		{Name: "MixWithStaleFrame", Rule: "R1", New: NewMixWithStaleFrame, Catches: []string{"P7"},
			Mistake: "a per-participant mix (each frame written with the latest frame of every other stream), fed by a live mixer that keeps the latest frame whether or not the gate is open"},
		{Name: "MixClearedOnGateClose", Rule: "R1", New: NewMixClearedOnGateClose, Catches: []string{"P7"},
			Mistake: "the same mix fed only under leases, emptied when the gate closes (observer's EventGate) rather than after the leases drained: a write holding its lease across the close refills the table, and that frame is mixed into the next recording",
			Miss:    missMixEarlyRefill},
		{Name: "MixClearedOnGateCloseAfterWrite", Rule: "R1", New: NewMixClearedOnGateCloseAfterWrite, Catches: []string{"P7"},
			Mistake: "MixClearedOnGateClose with the table refilled after the write (\"remember a frame once it is stored\"): a write in progress across the close refills it"},
	}
}

// Correct lists the correct bots of this round.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "WriterOnly", New: NewWriterOnly,
			What: "persists only through fsm's Gate.Writer, one per stream"},
		{Name: "RotatedStreams", New: NewRotatedStreams,
			What: "Streams closed in the hook and made anew at the next Start, the current one read under a lock at every frame; a frame that got a closed one is dropped"},
		{Name: "LeaseBeforeSpawn", New: NewLeaseBeforeSpawn,
			What: "a goroutine per frame, with a Stream of its own and its lease taken before it is spawned; the goroutine writes after Frame returned"},
		{Name: "SlowStorage", New: NewSlowStorage,
			What: "1 ms per write, under the lease"},
		{Name: "LaggingReporter", New: NewLaggingReporter,
			What: "a GateReporter that under-reports: open only once the application saw Start return, closed from the moment a Stop begins"},
		{Name: "SwappedStorage", New: NewSwappedStorage,
			What: "stream i's frames filed under Sink stream i+1, under stream i's lease, inside the recording they were heard in"},
		{Name: "MixCurrentOnly", New: NewMixCurrentOnly,
			What: "a per-participant mix of frames that got their lease, the table emptied once the leases drained"},
	}
}

// Diagnoses of the rows the suite gets wrong (see the Miss and FalseAlarm
// fields).
const (
	missMixEarlyRefill = "the suite holds a write in flight (to run a Stop, Fail or CallEnded meanwhile) only where its bytes reach env.Sink; a bot whose wrong step sits between Acquire and Sink.Write (here: refilling the mix table, which fsm's gate-close observer has just emptied) is never interleaved there except by the Go scheduler's chance; measured 0/10 (TestMixTableAcrossStop plays the interleaving by hand and shows the bug is real); " +
		"the fix is to run duringWrite's Stop when the lease is granted rather than when the bytes reach the Sink: fsm would need a pause point after a successful Stream.Acquire (today internal/hooks has AcquireAnnounced only in the recgate_checker build, and only for machines the checker builds) that a machine built on the suite's Updater reports to properties (play.go, duringWrite), a change to fsm's hot path, so not prototyped"
)
