// Package roundsix is a sixth set of bot wirings written from the user's
// side, to test recgate's property suite (package properties) with bots
// its authors have not seen. It follows internal/buggybots,
// internal/userbots, internal/roundthree, internal/roundfour and
// internal/roundfive and repeats none of their bots.
//
// This round looks at:
//
//   - fsm's Gate.Writer and Stream lifecycle: Streams rotated per
//     recording while a recorder keeps the first one (ErrStreamClosed read
//     as "the gate is open"); io.MultiWriter with the archive before the
//     gated writer; a retry wrapper that writes a frame refused with
//     ErrGateClosed once the gate has opened; rotation done right
//     (correct);
//   - a stream declared media-free (WithUntracedStreams) that quotes the
//     media heard before consent;
//   - what the bot tells the suite: a GateReporter that tells the truth
//     about fsm's gate while an application flag decides; env.GateOpened
//     called when the bot's own flag flips on a pending Start; a reporter
//     that under-reports (correct);
//   - Start/Stop storms: a Stop ignored within 50 ms of Start; a Stop
//     coalesced into the Start in flight;
//   - media mixing: a per-participant mix with the other streams' latest
//     frames, from before consent, or left over because the table was
//     emptied when the gate closed rather than after the leases drained;
//     a stream's frames filed under another stream (correct);
//   - correct but unusual: Gate.Writer only, a goroutine per frame whose
//     lease is taken before it is spawned, 1 ms storage under the lease,
//     and a bot that never records (the suite calls that run vacuous).
//
// Bugs lists the buggy bots, each with the invariants the suite should
// name; Correct the correct ones. A Bug whose Miss is set is one the suite
// as it stands passes, with the diagnosis; Unreliable, one it catches in
// some runs only. TestEachBugIsCaught and TestCorrectBotsPass keep the
// package green while keeping those rows in sight; TestMeasure (MEASURE,
// RUNS) measures the rates.
package roundsix
