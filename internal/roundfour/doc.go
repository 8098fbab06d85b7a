// Package roundfour is a fourth set of bot wirings written from the
// user's side, to test recgate's property suite (package properties) with
// bots its authors have not seen. It follows internal/buggybots,
// internal/userbots and internal/roundthree and repeats none of their
// bots.
//
// This round looks where the first three did not:
//
//   - more than one call in a process: fsm.Registry used as get-or-create
//     (an ended call comes back to life and asks Graph to record), and
//     gates kept in a map keyed by media source ID, which is unique only
//     within a call, so one call's frames take another call's lease;
//   - time: a debounced flush that lands a few hundred milliseconds after
//     notRecording, a pending attempt taken as consent when its
//     notification is late, and a "recording" flag a ticker samples
//     instead of a lease per frame;
//   - reports: recording re-sent on every reconnect while the gate stays
//     open, notRecording sent from a deferred function that runs before
//     the deferred drain, a Graph middleware that stamps its own
//     clientContext, a Stop that does not wait for Start's request;
//   - storage in front of and behind the gate: a bufio.Writer in front of
//     a gated writer (the gate looks at flush time, not capture time), a
//     gzip trailer written after the report, an io.MultiWriter whose
//     second writer runs after the first one's lease was released.
//
// Bugs lists the buggy bots, each with the invariants the suite should
// name. A Bug whose Miss is set is one the suite as it stands passes: its
// test still asserts the right verdict and skips with the diagnosis (what
// the suite lacks, and the smallest change that would catch it), so the
// package stays green and the miss stays in sight; if the suite starts
// catching it, the test fails until Miss is removed. A Bug whose
// Unreliable is set is caught in some runs only: one run, passed when
// caught for a listed reason, skipped with the diagnosis when not.
// mechanism_test.go shows each such bug on fakes of Graph and storage, so
// a miss is the suite's and not a bot that does not do what it says.
//
// Correct lists bots that keep the rule while doing something unusual (a
// hand-rolled counting gate, a registry of calls, two calls in one
// process, a debounced flush done right, a recording that fails itself
// and starts again); the suite must pass them. GzipClosedInHook stores
// only gzip, which the suite could not read when this round was written
// (its run failed as vacuous); the sink now follows a gzip member across a
// stream's writes, and it passes. A correct bot whose FalseAlarm is set is one the suite fails
// today; its test skips with the diagnosis until the suite passes it.
//
// The round found three misses (DebouncedFlush, PendingFallback,
// CrossCallGateOwnStorage), one bug caught only sometimes (TeeAfterGate)
// and one false alarm (FailAndRestart). The suite was then changed: writes
// after a case ended are judged on that case, a write during a concurrent
// Stop waits for it, and P3 lets a recording follow an accepted failed
// report. Only CrossCallGateOwnStorage is still a Miss, by the one-call
// limit below.
//
// The suite's Env models one call (one CallID, one Updater, one Sink).
// A second call in these bots is the bot's own: its Graph is an
// fsm.UpdaterFunc that always confirms, and its storage is either
// env.Sink (on a stream the suite sends no frames on) or the bot's own
// buffer, which the suite cannot see. What that cannot test is written
// in the rows it concerns.
//
// The bots are wrong on purpose: nothing outside recgate's own tests
// should import this package.
package roundfour
