// Package properties holds recgate's safety properties as code, and the two
// tools that check them.
//
// # The invariants
//
// P1..P6 (Invariants) are Go values: a name, the sentence of the rule, and
// a check run on every observed event (a request sent, a reply, a write
// beginning and ending, the hook flushing, the call ending, the gate
// opening). Persisting and sending are events, so a violation is caught
// when it happens, not only in the states in between.
//
// # The rapid suite, for your own bot
//
// Check (and Fuzz, for go test -fuzz) run a property-based test with
// pgregory.net/rapid against the bot wiring your Factory builds. The
// factory receives an Env: an Updater that plays Graph (its replies are
// drawn: completed; pending, then completed or failed by a later update;
// failed with resultInfo; 429, 503, 504 after retries; a timeout; 8506; the
// call terminated) and a Sink that records every persisted byte with its
// time. rapid draws the bot's events (Start, Stop, Fail, media frames on
// several streams, operation updates, CallEnded) and, now and then, runs a
// Stop, Fail, Start or CallEnded concurrently while a Graph request or a
// write is under way. Every invariant is checked on every event; a failure
// shrinks to a short list of events.
//
//	func TestMyBot(t *testing.T) {
//		properties.Check(t, func(env *properties.Env) (properties.Bot, error) {
//			return newMyBot(env.CallID, env.Updater, env.Sink)
//		})
//	}
//
// ReferenceBot is recgate's own fsm-based wiring, and passes.
//
// # The model checker, over the real machine
//
// CheckModel explores, breadth first, every interleaving of a bounded
// model: the bot's events on one goroutine, a duplicate Start on a second,
// CallEnded on a third, Graph's replies to each request, and K media
// writers taking, using and releasing leases. It drives the real
// fsm.Machine: the machine pauses at the points internal/hooks names (its
// lock, each step of Stop, the lease drain), a state is reached again by
// replaying its path on a fresh machine, and nothing of the machine is
// copied. Every counterexample is therefore a shortest one; it prints as
// moves and events, replays with Replay, and turns into a Go test with
// Counterexample.GoTest. The result reports states, transitions, depth and
// time, a coverage table (every state and event reached, a write
// persisted), the states from which neither NotRecording nor Ended can be
// reached (none), and the product graph as DOT.
//
// # Mutants
//
// Eight seeded bugs (internal/hooks.All) prove that the checkers can fail:
// the gate opening on a pending reply or before the reply, notRecording
// sent before the leases drain, the hook after the report, CallEnded
// waiting behind a request, a late success reopening the gate, the lock let
// go during a request, and a writer that checks and then writes without a
// lease. Both the rapid suite and the model checker kill every one.
//
// # SPIN
//
// Promela exports the same concurrent model for SPIN, with LTL claims for
// P1 and P2 and a vacuity claim that must fail; the tests run spin, gcc
// and pan and check that SPIN's verdicts equal the Go checker's for the
// correct machine and for seeded bugs.
package properties
