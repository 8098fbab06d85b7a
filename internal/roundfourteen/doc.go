// Package roundfourteen is a fourteenth set of bot wirings written from
// the user's side against recgate's property suite (package properties),
// by a red team that read the suite's code: bots that fall into its
// newest exemptions and timing rules.
//
// Bugs lists the buggy bots, Correct the correct ones; the tests keep the
// package green while keeping the rows in sight (internal/botrounds).
//
// The bots are wrong on purpose: nothing outside recgate's own tests
// should import this package.
package roundfourteen
