// Package roundthree is a third set of bot wirings written from the
// user's side, to test recgate's property suite (package properties) with
// bots its authors have not seen. It follows internal/buggybots and
// internal/userbots and repeats none of their 29 bots.
//
// This round looks where the first two did not:
//
//   - fsm embedded but its API misused: a nil from Start (also returned
//     for a pending reply) read as consent, Gate.IsOpen used as a check
//     before a raw write, the raw storage writer kept from before the
//     gate and used "while Graph still shows recording", a write error
//     (ErrGateClosed among them) retried later, one Stream shared by all
//     media goroutines with ErrStreamBusy taken as "covered", the hook
//     calling Stop or reporting to Graph itself, Start retried after
//     ErrSuperseded, a Stop that looks at the state first and skips;
//   - reports: notes saved after Stop returned, notRecording sent twice,
//     a late completed that makes the bot start again by itself, Stop and
//     Fail swapped;
//   - media in another shape: JSON with base64 audio, 12-byte packets.
//
// Bugs lists the buggy bots, each with the invariants the suite should
// name. A Bug whose Miss is set is one the suite as it stands passes: its
// test still asserts the right verdict, and skips with the reason (the
// diagnosis) when the suite misses it, so the package stays green and the
// miss stays in sight; if the suite starts catching it, the test fails
// until Miss is removed. Correct lists bots that keep the rule while
// doing something unusual (block-aligned writes, batches flushed by the
// hook, retries with the same clientContext, a recording that stops
// itself, reports on a detached context, a lease held across an upload),
// which the suite must pass.
//
// The bots are wrong on purpose: nothing outside recgate's own tests
// should import this package.
package roundthree
