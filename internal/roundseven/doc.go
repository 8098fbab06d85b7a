// Package roundseven is a seventh set of bot wirings written from the
// user's side, to test recgate's property suite (package properties) with
// bots its authors have not seen. It follows internal/buggybots,
// internal/userbots and internal/roundthree to internal/roundsix, and
// repeats none of their bots.
//
// This round looks at:
//
//   - Start's result misread: a *fsm.RequestError whose Operation "is
//     pending" (it is zero for every refusal that came as an error, and
//     the zero status reads as pending) taken as "Graph has not decided
//     yet, record provisionally"; a deadline of the bot's own on Start
//     read as "the request was sent, so Graph has it"; throttled Starts
//     retried with backoff while the frames in between are buffered and
//     written once an attempt succeeds;
//   - pipelines: a worker pool fed under a lease released at hand-off; a
//     ring drained every 20 ms under the drainer's own lease, which keeps
//     what the gate refused for the next recording; batches written after
//     the lease is released; a writer queue whose overflow path writes
//     without a lease (reached only when storage falls behind);
//   - encodings before storage: a gzip-compressed lead-in beside plain
//     frames, and G.711 mu-law written by hand, with and without a
//     pre-roll;
//   - re-invites and shutdown: a fresh fsm.Machine per re-established call
//     while the media handlers keep the first machine's Streams; a segment
//     per recording whose hook closure captured the first segment; a hook
//     that leaves CallEnded's flush to Close;
//   - correct but unusual: a consumer that takes its own lease per frame
//     and drops frames of an earlier recording by a generation the hook
//     bumps; only derived data (a redacted transcript) under the lease,
//     also under WithNoninterference; mu-law under the lease (vacuous by
//     design); a re-invite that ends the old recording first; Stop, Fail
//     and CallEnded run on goroutines of their own.
//
// Bugs lists the buggy bots, each with the invariants the suite should
// name; Correct the correct ones. A Bug whose Miss is set is one the suite
// as it stands passes, with the diagnosis and the smallest change to
// properties that would catch it; Unreliable, one it catches in some runs
// only; a CorrectBot's FalseAlarm, one the suite fails though it keeps the
// rule. mechanism_test.go shows each such row's mechanism on fakes of
// Graph and storage, so that a miss is the suite's and not a bot that
// does not do what it says. TestEachBugIsCaught and TestCorrectBotsPass
// keep the package green while keeping those rows in sight; TestMeasure
// (MEASURE, RUNS) measures the rates.
//
// What the round found (RUNS=10 per bot, TestMeasure with -race, on a
// shared 2-core machine): every bug caught 10/10 except
// StartDeadlineMeansSent (8/10: it needs a drawn timeout on a Start),
// SegmentPerRecording (7/10, 9/10 without -race: it needs three
// recordings, or a CallEnded after a second one), GzipLeadIn (0/10: a
// gzip member hid its canaries and the plain frames beside it satisfied
// the vacuity check; WithNoninterference caught it 10/10) and
// QueueFullFallback (0/10: the suite's storage never fell behind, so a
// 32-frame queue never filled). MuLawPreRoll under WithNoninterference is
// named 10/10, and MuLawUnderLease fails as vacuous 10/10. One false
// alarm: ReinviteStopsFirst (7/10, 10/10 with -race), P3's allowance for
// a recording after a completed notRecording was withheld while an
// earlier Stop was still "asked". The other correct bots pass 10/10.
//
// The suite took three fixes: the sink inflates gzip and zlib members
// (GzipLeadIn 10/10), P3 asks the attempt's own label (ReinviteStopsFirst
// passes 10/10), and drawn storage stalls (the WithStorageStalls option)
// and bursts of frames reach overload paths (QueueFullFallback 7 - 9/10
// with the option).
//
// The bots are wrong on purpose: nothing outside recgate's own tests
// should import this package.
package roundseven
