// Package userbots is a second, independent set of bot wirings written
// from the user's side, to test recgate's property suite (package
// properties) the way an outside tester would: with bots the suite's
// authors have not seen.
//
// Each bot is what a real Teams bot team plausibly writes: code ported
// from Microsoft's C# calling samples, a "small" optimisation under
// deadline, a helper reused from elsewhere. Every buggy bot breaks one of
// the rules the suite stands for:
//
//   - R1: media, and data derived from it, is persisted only inside a
//     recording Graph confirmed (completed), and only media that arrived
//     inside that same recording;
//   - R2: the recording ends (nothing more is persisted, everything is
//     flushed) before notRecording or failed is reported;
//   - the Graph protocol of updateRecordingStatus (DESIGN.md): one request
//     per attempt, retries only after 429/503/504, never after the 8506
//     policy refusal or a failed operation, a unique clientContext per
//     request, nothing sent after the call ended.
//
// Bugs lists the buggy bots, each with the invariants the suite should
// name when it catches it; Correct lists bots that keep the rule while
// doing something unusual (retrying a throttled report, uploading the
// whole recording when it ends, writing a summary derived inside the
// recording, a header and trailer around the media), which the suite must
// pass. A Bug whose Limit is set is one the default suite documents it
// cannot trace (derived aggregates, encrypted bytes): its test asserts that
// the default suite names no violation, so that a change of the limit
// shows, and the same bot's row with WithNoninterference catches it. A
// correct bot whose Vacuous is set stores only what the suite cannot read:
// its run must fail as vacuous and say what to do, never pass.
//
// The bots are wrong on purpose: nothing outside recgate's own tests
// should import this package.
package userbots
