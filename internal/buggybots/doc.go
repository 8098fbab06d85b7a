// Package buggybots is the evidence that recgate's property suite
// (package properties) catches what real Teams bot teams get wrong.
//
// Each bot here is written from the user's side: by an engineer who read
// recgate's README, wired fsm (or hand-rolled part of it) under deadline
// pressure, and got one thing wrong the way teams do: a pre-roll buffer so
// the recording does not miss the first words, a live transcript that
// started when the bot joined, a write-behind queue for throughput, an
// optimistic "we're recording" flag to save a round-trip, a bufio.Writer
// the hook forgets to flush, one lease held for the whole recording, a
// generic retry helper that also retries a policy refusal, a notification
// handler that believes any "completed", an encoder block carried over to
// the next recording, and a per-call fingerprint of all audio. Each is a
// class of mistake, not a sabotage switch: the code reads like something
// that passes review at a busy shop, and a comment on each says what the
// team was thinking and which rule it breaks.
//
// Bugs lists them, each with the invariants (properties.P1...) the suite
// is expected to name when it catches the bot, or "hung" for a bot that
// deadlocks (the suite's watchdog must say so and dump the goroutines).
// Correct lists bots that look just as busy (retrying Start after
// throttling, a jitter buffer, a write-behind queue) but keep the rule:
// the suite must pass them, or it would teach teams to distrust it.
//
// One class cannot be traced by content: a bot that persists only numbers
// derived from the media (a byte count, a digest) carries none of the
// canary words the suite puts in each frame. Those bugs are marked
// Noninterference: only the suite's opt-in noninterference check (the same
// scenario replayed with other pre-consent media must persist the same
// bytes) can catch them, and the default suite is expected to pass them.
//
// Nothing outside recgate's own tests should import this package: the
// bots are wrong on purpose.
package buggybots
