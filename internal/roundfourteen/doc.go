// Package roundfourteen is a fourteenth set of bot wirings written from
// the user's side against recgate's property suite (package properties),
// by a red team that read the suite's code and aimed at its newest
// exemptions and timing rules: a request counts as a bot call's only if
// it carries that call's context (madeFor), the P3 and P5 exemptions for
// requests from goroutines outside any bot call, P3's allowance for a
// report sent again, and how long a sleeping Stop counts as running.
//
// What it found (RUNS=10 per bot, TestMeasure, on a 2-core machine shared
// with other jobs; each row says more):
//
//   - a sender goroutine that sends every Graph request on a context of
//     its own (jobs carry no context: "don't store contexts in
//     structs"), while the handler waits for the reply, was judged as if
//     fsm's own timers sent: P5 exempted its notRecording while CallEnded
//     ran (HangupStopsDetached, 0/10) and P3 did not count a second
//     report in one Stop (DoubleReportDetached, 2 - 4/10, only on P5).
//     Round twelve's sender, whose jobs carry the handler's context, was
//     caught. The suite took this round's patch (a request from outside
//     any bot call while a bot call waits inside a Graph request of its
//     own, an fsm.Updater's UpdateRecordingStatus that is not the
//     suite's, is that call's): both 10/10, the correct DetachedSender
//     passes 10/10;
//   - a background retrier that re-sends a failed report on any error,
//     after 403 8506 and 404 too (ReportOutbox), passed 0/10: P3 counted
//     no background request and its rule for refusals covered recording
//     only. The suite took this round's second patch (no report after one
//     that was refused for good, from any goroutine, until the bot is
//     next asked to Start, Stop or Fail): 7/10 on the round's copy, 3/10
//     then 7/10 on the day's final suite; ReportOutboxTransient (transient
//     errors only) passes 10/10;
//   - a hook that sleeps 150 ms instead of waiting for the writes under
//     way (SleepDrainLong) is caught 2/10 to 8/10, as the machine's load
//     decides: a Stop asleep outside fsm's drain counts as running for
//     100 ms only (maxSleepWait);
//   - a background Start that retries refusals (StartRetriesRefusal) is
//     caught 10/10 on P3, and a background Start on
//     context.WithoutCancel(ctx) with a deadline of its own, which the
//     suite takes for the handler's or for nobody's as the scheduler
//     decides, passes (AsyncStartDetachedDeadline).
//
// Bugs lists the buggy bots, Correct the correct ones; the tests keep the
// package green while keeping the rows in sight (internal/botrounds).
//
// The bots are wrong on purpose: nothing outside recgate's own tests
// should import this package.
package roundfourteen
