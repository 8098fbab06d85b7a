// Package roundnine is a ninth set of bot wirings written from the user's
// side, to test recgate's property suite (package properties) after it
// began failing storage writes (properties.ErrStorageFault: the first
// write carrying each drawn frame, in about one case in four) and
// delivering a stream's frames one at a time. It follows
// internal/roundeight and repeats none of its bots.
//
// The round looks at storage error paths as teams write them:
//
//   - correct code that the new faults or the one-at-a-time delivery
//     might wrongly fail: a bufio.Writer over env.Sink.Stream(i) whose
//     sticky error drops the rest of the recording, or makes the bot
//     call Fail; an io.Pipe io.Copy'd into the Sink by an uploader
//     goroutine the hook waits for; a gzip.Writer over a bufio.Writer
//     over the Sink, and over the Sink directly; a retry with backoff
//     under the same lease; a Stop and Start from the frame's handler;
//     segment files rotated on error; a retry goroutine or a pending list
//     the hook drains; a bot that logs and drops, and one that returns the
//     error from Frame;
//   - buggy error paths: retries after the lease was released (from a
//     goroutine, from the next frame across a recording, from the hook's
//     goroutine, after Stop returned, after the hook's flush), a local
//     spool uploaded at hang-up or at the next opening, the whole
//     in-memory copy of a stream (pre-consent lead-in included) rewritten
//     into a new file, a circuit breaker that buffers while open, and a
//     Fail called under the caller's own lease.
//
// Bugs lists the buggy bots, each with the invariants the suite should
// name; Correct the correct ones. A row marked Miss or FalseAlarm is one
// the suite gets wrong as it stands, with the diagnosis and the change to
// properties that would fix it. TestEachBugIsCaught and
// TestCorrectBotsPass keep the package green while keeping those in
// sight; TestMeasure (MEASURE, RUNS) measures the rates; fuzz_test.go
// wires one correct and one buggy bot through properties.FuzzBot.
//
// The bots are wrong on purpose: nothing outside recgate's own tests
// should import this package.
package roundnine
