// Package roundfifteen is a fifteenth set of bot wirings written from the
// user's side against recgate's property suite (package properties), by a
// red team that read the suite's code and aimed at its newest mechanisms:
// which requests count as a bot call's (runner.callAwaitsGraph), the rule
// for a report refused for good (World.reportRefusedBy), the per-stream
// blindness check (coverage.go), and untraced streams.
//
// Bugs lists the buggy bots, Correct the correct ones; the tests keep the
// package green while keeping the rows in sight (internal/botrounds).
//
// The bots are wrong on purpose: nothing outside recgate's own tests
// should import this package.
package roundfifteen
