// Package roundthirteen is a thirteenth set of bot wirings written from
// the user's side against recgate's property suite (package properties),
// by a new outside team: an actor (one goroutine, one mailbox) per call,
// a media actor behind the machine, graceful shutdown, chunked uploads,
// an SDK-style Graph pipeline, a reconnecting media socket that replays,
// compliance-policy bots that start by themselves and retry, and
// per-participant tracks.
//
// Bugs lists the buggy bots, Correct the correct ones; the tests keep the
// package green while keeping the rows in sight (internal/botrounds).
//
// The bots are wrong on purpose: nothing outside recgate's own tests
// should import this package.
package roundthirteen
