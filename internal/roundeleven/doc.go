// Package roundeleven is an eleventh set of bot wirings written from the
// user's side against recgate's property suite (package properties), a
// second red team after round ten, aimed at the suite's newest mechanisms
// and at round ten's two standing misses.
//
// What it found (RUNS=10 per bot, TestMeasure, 2-core machine shared with
// other jobs), with the suite at HEAD and with the patch kept at
// /tmp/roundeleven_properties.patch (see each row for the diagnosis):
//
//   - a hook that "drains" by sleeping (SleepDrainShort, 2 ms) is caught
//     10/10 at HEAD, but 8 of the 10 reports are "flaky, can not
//     reproduce": the held write is let go once Stop is seen blocked, and
//     time.Sleep counts as blocked. A hook that polls with 1 ms sleeps and
//     gives up after a frame time (PollThenGiveUp) is caught 4/10, all
//     flaky. The patch counts a sleep outside fsm's own drain as running
//     for up to 100 ms: both 10/10 and never flaky; round ten's SleepDrain
//     10/10 with and without -race (0/10 before);
//   - the same drain on a timer's channel (TimerDrain) stays unreliable
//     (3–4/10, all flaky) with or without the patch: a goroutine parked on
//     a timer's channel cannot be told from one waiting for the write;
//   - the sink follows a gzip member across writes, but never inflates a
//     member inside it: a correct bot with a per-frame zlib codec inside a
//     gzipped segment (ZlibInGzip) fails as vacuous 10/10; the patch
//     inflates one level more, and it passes 10/10;
//   - a correct bot whose hook polls with sleeps (PollingDrain) passes
//     10/10 with and without the patch (with it, a Stop that meets a write
//     pays up to 100 ms).
//
// The suite took the patch. Measured again once it landed (RUNS=10):
// SleepDrainShort and PollThenGiveUp 10/10, round ten's SleepDrain 10/10,
// TimerDrain 0/10, ZlibInGzip and PollingDrain pass 10/10.
//
// Round ten's WebhookOptimisticWhileAwaiting stays a miss: the window in
// which that webhook lets media through contains no code of the suite
// (fsm's applyUpdate for a stale operation reads no context, calls no
// Updater, writes nothing, and the bot's observer reports only gate
// openings), and fsm's machine is never held while AwaitingConfirmation
// at a point the suite controls (Start is not permitted there; Stop and
// Fail move to Stopping before they send), so no frame can be placed
// inside that window except by racing the scheduler.
//
// Bugs lists the buggy bots, Correct the correct ones; the tests keep the
// package green while keeping the rows in sight (internal/botrounds).
//
// The bots are wrong on purpose: nothing outside recgate's own tests
// should import this package.
package roundeleven
