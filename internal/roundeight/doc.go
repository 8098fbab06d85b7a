// Package roundeight is an eighth set of bot wirings written from the
// user's side, to test recgate's property suite (package properties) with
// bots its authors have not seen. It follows internal/buggybots,
// internal/userbots and internal/roundthree to internal/roundseven, and
// repeats none of their bots.
//
// This round looks at:
//
//   - storage clients with a will of their own: an SDK that tries each
//     append once under the lease and retries a failed one from a
//     goroutine with backoff (after notRecording); a multipart upload per
//     call whose parts must be full, so a recording's tail waits for the
//     next recording or for the upload's completion at hang-up;
//   - panics: a level meter that panics on odd-length frames between
//     Acquire and a Release that is not deferred (the lease leaks); a
//     retry queue for frames whose handler panicked, which meets the gate
//     only later; a recover around the hook that swallows a nil writer's
//     panic and lets the machine report with buffers unflushed;
//   - capture time against write time: a jitter buffer in the transport
//     that plays pre-consent frames into the recording, and its fix by
//     20 ms capture ticks, which lets through the frame of the opening's
//     own tick;
//   - derived metadata: a recognizer's final result that spans the gate's
//     opening, a speaker voiceprint enrolled from pre-consent audio, and
//     search shingles ("word_word") over the live caption history;
//   - windows in which media keeps coming: an optimistic flag set by the
//     notification webhook before the machine sees the update, and a
//     hang-up path that appends late frames while it finalizes the file;
//   - correct but unusual: a storage retry under the lease (on storage
//     that fails), parallel final uploads from the hook (CallEnded too), a
//     recovered panic whose lease a defer releases, and two recognizers,
//     only the archival one fed under the lease (WithNoninterference).
//
// Bugs lists the buggy bots, each with the invariants the suite should
// name; Correct the correct ones. A Bug whose Miss is set is one the suite
// as it stands passes, with the diagnosis and the smallest change to
// properties that would catch it. mechanism_test.go shows each missed
// bug's mechanism on fakes of Graph and storage, so that a miss is the
// suite's and not a bot that does not do what it says. TestEachBugIsCaught
// and TestCorrectBotsPass keep the package green while keeping the misses
// in sight; TestMeasure (MEASURE, RUNS) measures the rates.
//
// UploadRetryWithStorageFaults and StorageRetryUnderLease run on a faulty
// storage their row's factory wraps around env.Sink (every fourth write
// fails with 503): the prototype of the storage faults the suite now draws
// itself (properties.ErrStorageFault), kept as rows of their own.
//
// What the round found (RUNS=10 per bot, TestMeasure, on a shared 2-core
// machine), with the suite as it was when the round was written: every
// caught bug 10/10, except HookRecoverSwallowsPanic (9/10: it needs a
// recording in which a low-numbered stream had no frame), so each bug
// gets three runs. CaptureTickFilter depends on the clock (a replay may
// cross a 20 ms tick), and rapid calls 2 of its 10 failures flaky; all 10
// name P7. Four misses, 0/10 each: UploadRetryAfterStop (the Sink never
// failed), ShingleIndexPreRoll (canaries were found only between word
// boundaries, and '_' is a word character), OptimisticOnNotification (no
// frame arrived while OperationUpdate ran) and HangupFinalizeBeforeClose
// (no frame arrived while CallEnded's hook flushed). No false alarms: the
// four correct bots passed 10/10.
//
// The suite then gained what the four misses needed: storage faults drawn
// in about one case in four (ErrStorageFault), canaries found glued to any
// neighbour, a stale completed notification while Start's request is
// out, and frames while CallEnded's hook flushes. Measured again with it (RUNS=10):
// all four caught 10/10 (UploadRetryAfterStop: 1 of the 10 flaky, as the
// retry's backoff is a timer), every other bug as before (10/10;
// HookRecoverSwallowsPanic 9/10), and the four correct bots pass 10/10.
//
// The bots are wrong on purpose: nothing outside recgate's own tests
// should import this package.
package roundeight
