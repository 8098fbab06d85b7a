// Package roundfifteen is a fifteenth set of bot wirings written from the
// user's side against recgate's property suite (package properties), by a
// red team that read the suite's code and aimed at its newest mechanisms:
// which requests count as a bot call's (runner.callAwaitsGraph, madeFor),
// the rule for a report refused for good (World.reportRefusedBy), the
// per-stream blindness check (coverage.go vacuous), and streams named by
// WithUntracedStreams. It repeats none of rounds ten, eleven, thirteen and
// fourteen's attacks.
//
// What it found (RUNS=10 per bot, TestMeasure, on a 2-core machine shared
// with other jobs; each row says more, and each patch is in /work/notes):
//
//   - a control actor (one goroutine runs every Start, Stop, Fail and
//     update of the call as a job on a context of its own; the handler
//     waits in the actor's mailbox) hides every request from the suite:
//     the handler waits in a select of the bot's, not inside an
//     UpdateRecordingStatus, so callAwaitsGraph gave the request to no
//     call. A hang-up that stops first (HangupStopsViaActor) passed 0/10
//     (P5 exempted it), a second report in one Stop (DoubleReportViaActor)
//     was caught 0 - 3/10 and only by P5. The suite took this round's
//     patch (a
//     request from outside every bot call while a control call is parked
//     on a channel, a select or a WaitGroup in the bot's own code is that
//     call's; a Start so parked takes only a recording request): both
//     10/10, the correct ActorControl passes;
//   - Stop and Fail run on a goroutine with the report owed to the next
//     webhook (OwedReportAnyError) resend a report Graph refused for good
//     from a bot call, which World.reportRefusedBy exempted after a
//     goroutine's refusal: 0/30. Its correct form (OwedReportTransient)
//     met a false alarm (1/20): two Stops asked before either goroutine
//     reported, the second's report counted as the first's sent again.
//     The suite took this round's patch (World.reportsUnsent: a refusal for good
//     counts only when no Stop or Fail asked is still unsent, whoever
//     sends): the bug 4 - 7/10 (it needs a refusal for good followed by
//     an update step), the false alarm 0/40 and 0/10;
//   - a stream that holds mu-law audio with a pre-roll beside a traced
//     transcript (MulawPreRollTranscript) is never called blind: 0/10.
//     Under WithNoninterference 10/10. A vacuous verdict for any write of
//     48 bytes or more without a frame beside traced ones called two
//     correct bots of earlier rounds vacuous (a 97-byte trailer of counts,
//     a redacted transcript line); the round's patch only warned, and was
//     not taken: the suite does not catch this bot without
//     WithNoninterference;
//   - a receive log on an untraced stream that quotes each frame's first
//     16 bytes (FramePreviewLog) passes 0/10: the canary is a frame's
//     last word. Under WithNoninterference 10/10. The round's patch (a
//     second canary glued to a frame's first word, counted as one with
//     the first: 10/10 on the round's copy) was not taken this late: it
//     changes every frame the suite sends, and every round's rates would
//     need measuring again.
//
// Bugs lists the buggy bots, Correct the correct ones; the tests keep the
// package green while keeping the rows in sight (internal/botrounds).
//
// The bots are wrong on purpose: nothing outside recgate's own tests
// should import this package.
package roundfifteen
