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
// test still asserts the right verdict and skips with the diagnosis, so the
// package stays green and the miss stays in sight; if the suite starts
// catching it, the test fails until Miss is removed. Correct lists bots
// that keep the rule while doing something unusual (a registry of calls,
// two calls in one process, a recording that fails itself and starts
// again, a debounced flush done right, a hand-rolled gate); the suite must
// pass them, or fail one as vacuous when its Vacuous says it stores only
// what the suite cannot read (gzip).
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
