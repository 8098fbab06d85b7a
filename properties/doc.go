// Package properties holds recgate's safety properties as code, and the
// tools that check them: a property suite you run against your own bot,
// and an exhaustive model checker over recgate's own machine.
//
// # The invariants
//
// P1..P10 (Invariants) are Go values: a name, the sentence of the rule, and
// a check run on every observed event (a request sent, a reply, a frame
// arriving, a write beginning and ending, the hook flushing, the call
// ending, the gate opening). Persisting and sending are events, so a
// violation is caught when it happens, not only in the states in between.
// P8 (only an authenticated completed for the current attempt opens the
// gate) is checked where notifications are authenticated: graph/callback
// and the fsm registry, and their end-to-end tests. P10 (a unique
// clientContext per request) is judged by the suite, which sees each
// request's clientContext; the model checker drives fsm's own generator.
//
// # The property suite, for your own bot
//
// Check runs a property-based test (pgregory.net/rapid) against the bot
// wiring your factory builds:
//
//	func TestMyBotKeepsTheRule(t *testing.T) {
//		properties.Check(t, func(env *properties.Env) (properties.Bot, error) {
//			// env.Updater is the Graph to pass to fsm.New (or to call);
//			// env.Sink (or env.Sink.Stream(i), an io.Writer) is where frames
//			// are persisted; the recording-ended hook calls env.Sink.Flush.
//			return newMyBot(env)
//		})
//	}
//
// Each case is drawn whole before it runs: Graph's answer to the request
// each Start, Stop and Fail makes (completed about half the time; pending,
// then a later update; failed; 429, 503, 504; a timeout; the 8506 policy
// refusal; a terminated call), also when the bot sends it from a goroutine
// of its own right after its handler returned (further requests, and
// retries beyond those drawn, are answered completed),
// the bot's events (Start, Stop, Fail, operation updates, some stale,
// CallEnded), media frames on every stream, and what happens meanwhile:
// frames keep arriving while a step's first Graph request is out and while
// the recording-ended hook flushes (on Stop, Fail and CallEnded), and a
// Stop, Fail, Start, CallEnded or a stale completed notification comes in
// while Start waits for Graph, a CallEnded while Stop's or Fail's report
// is out (half the time when Graph throttles it: a retry must not outlive
// the call), or a Stop, Fail or CallEnded while a write holds its lease
// (the step's first write, whether a Frame call makes it or a writer
// goroutine of the bot's own does: the step's next frame, unless a bot
// call delivers it, waits until that event returned or blocked; when no
// Frame call of the step wrote, a bot that has written from its own
// goroutines earlier in the case is given until its goroutines are
// quiet, at most the grace period, to write the step's frames, so a
// writer asleep on a timer, a ticker's flush, is met only by chance).
// A bot's Stop, Fail and CallEnded must close the gate before they wait
// for anything its writers hold (a storage lock kept across a write):
// one that waits first lets a writer's frames in after Stop was asked.
// A stream's frames come one at a time (Bot.Frame). Unless a Stop, Fail,
// Start or CallEnded is drawn beside a Start's request, Graph's completed
// reply lands the moment the frames that arrived while the request was
// out have been handed over (their Frame calls returned within a
// millisecond; a Frame that blocks, or takes longer, is waited for as
// below), and the goroutine that handed them over keeps its processor
// until the bot acted on the reply (for at most 2 ms). A bot that hands a
// frame to a goroutine of its own, which takes its lease when it runs,
// then writes that frame after the reply, where P7 sees it. This needs
// two processors (GOMAXPROCS of 2 or more); and a handler that yields
// after it started its goroutine (runtime.Gosched, a contended lock, a
// channel send that blocks) lets the goroutine run before the reply: that
// bot is caught in some runs only. The
// suite waits for such concurrent events to return or to block, never for
// a fixed time, so one seed plays one case and a failure replays with
// -rapid.seed (one that came from a goroutine's timing, as above, may
// not: rapid then reports a "flaky test", with the failure it saw first). A
// Stop that sleeps (time.Sleep, outside fsm's own drain)
// while a write waits for it counts as running, for up to 100 ms, so a
// hook that "drains" by sleeping rather than waiting for the writes under
// way is caught; one that waits on a timer's channel cannot be told from
// one that waits for the write, and passes. Every invariant is
// checked on every event, and every write is judged whenever it lands:
// after each Stop, Fail and CallEnded and at
// the end of a case the suite waits (Closer, then at most the grace
// period) until the bot's own goroutines are quiet. Writes that land even
// later, after their case ended (a debounce timer's batch, a timer that
// confirms a pending attempt by itself), are judged on their own case:
// every case that passed stays watched until the run ends, which waits
// WithLateWindow for the last ones. A write that begins while a concurrent
// Stop, Fail or CallEnded runs on another goroutine waits until it
// returned or blocked, so a write made without a lease lands after the
// report (or after CallEnded returned), where P1 sees it. A frame arrives
// when the suite hands it to Bot.Frame; a bot that runs Start on a
// goroutine of its own (its webhook answers at once) gets Graph's
// completed between two frames, never while a Frame call is running
// (that reply waits until every Frame call under way has returned or
// blocked), and a real notification only once the reply it follows has
// come: the suite then judges such a bot as it judges one whose Start
// waits for the reply. A gate opened on another goroutine while a Start
// call still runs (an actor, a worker the handler waits for) is that
// Start's, and counts at once. A request counts as the bot call's whose context
// it carries while that call runs, on whatever goroutine it is sent (a
// sender goroutine that paces every request for Graph's throttling, the
// handler waiting): pass the handler's context along, with its deadline
// (one context.WithoutCancel stripped belongs to no call). A request sent
// from outside every bot call on a context of its own also counts as a
// bot call's while that call waits inside a Graph request of its own (a
// method UpdateRecordingStatus, an fsm.Updater in front of env.Updater,
// that has not reached env.Updater), or while a Start, Stop, Fail,
// CallEnded or OperationUpdate is parked on a channel, a select or a
// WaitGroup in the bot's own code (a control actor's mailbox; a Start so
// parked takes only a recording request): a sender whose jobs carry no
// context is judged as the handler that waits for it. Every bot call has a
// deadline and a watchdog: a bot that deadlocks fails with "the bot hung
// in Stop ..." and a dump of its goroutines. A failure prints the broken
// invariant, what happened, and the shrunk case event by event.
//
// # Two calls in one process
//
// A bot serves many calls in one process, and the mistakes made there lie
// between calls: a recording flag kept in a static field, one machine or
// one stream for every call, a handler that looks its call up by the
// wrong key, a pre-roll or a transcript fed by every call's media. So
// each case calls the Factory twice: for the call under test, and for a
// neighbouring call of the same process (another env.CallID, its own
// env.Updater and env.Sink, the same streams). In about one case in six
// the suite asks the bot to record the neighbouring call (Start,
// before the first step; its Updater answers completed), so that both
// calls record whenever the call under test does; in the others it never
// asks. The
// neighbouring call gets a frame on every stream after each step of the
// call under test (in a step of frames, at the same time as that step's
// frames; none while a storage stall holds the call under test's writes),
// and its CallEnded (then Close) at the end of the case.
// Its world is judged by the same invariants, so anything persisted for
// it outside a recording Graph confirmed for it breaks P1 and P7 (a
// compliance bot that records every call by itself may record it), and
// each call's media found in the other's storage breaks P7 there, with a
// report that names the neighbouring call. Every call the suite plays has
// an ID no earlier call of the process had, as in production, and every
// Updater routes a request to the call it names, so a bot may keep one
// Graph client for the process (say, the first env.Updater it is handed).
// A bot that serves one call per process passes WithoutNeighbourCall.
// What it does not show: a call's session re-created under the same call
// ID; and a mistake between calls that needs their media at the same
// moment shows only when the two calls' frames happen to overlap (about
// one frame of the neighbouring call's per stream and step, beside a step
// of frames, not beside a Stop drawn during a write).
//
// Frames sometimes come as a burst of up to 64 on one stream. With
// WithStorageStalls, storage falls behind too: a drawn storage stall holds
// every Sink write until the next event that is not a frame (a Stop, Fail,
// CallEnded, Start, update, or the end of the case), while frames keep
// coming, so a bot's bounded queues fill and their overflow paths run.
// The held writes are then released one at a time, oldest media first,
// each once that event returned or blocked with nothing else of the bot's
// running: a write under a lease lets Stop's drain finish; one without a
// lease lands after the report, where P1 sees it. It is an option because
// its failures do not always replay from their seed (see there): run it
// as a second test beside the default one.
//
// A run also reports what it covered (cases that reached a confirmed
// recording, frames sent and persisted, Stops that met a write in flight,
// storage stalls, the writes they held, bursts),
// and fails as vacuous if no frame was ever persisted. About one case in
// three offers the bot a frame inside a confirmed recording, so a short
// run (-rapid.checks=10) can offer none by chance; such a run plays more
// cases, up to 100 in all, before it calls itself vacuous.
//
// # Media is traced
//
// Every frame carries a canary: a word (zq and six letters) no other
// frame of the case has, among ordinary words, the way a transcript keeps
// the words of speech. The sink finds canaries in whatever is persisted,
// in any case and glued to any neighbour (word_pairs, camelCase keys), so
// a pre-roll buffer, a transcript or summary built from media that
// arrived before Graph's completed, or media held across a notRecording
// into the next recording breaks P7, and the violation names the frame,
// when it arrived and what the call was doing then.
//
// Media encoded as base64 (either alphabet) or hex is traced too: the sink
// decodes such runs and looks inside; so is media compressed as gzip or
// zlib members (a compressed lead-in beside plain frames), which the sink
// inflates, a member cut short at the end of a write included, and a
// member spread over several writes to one Sink stream (a gzip.Writer
// streaming straight into env.Sink writes its header, blocks and trailer
// apart), which the sink follows from write to write. What
// cannot be traced: only what reaches env.Sink is judged (a bot that also
// writes elsewhere is judged on none of that); bytes a bot encrypts,
// scrambles, transcodes (say, to mu-law) or compresses as raw deflate (no
// header to find) before env.Sink hide their canaries,
// and so does a frame cut into writes shorter than its canary (hand the
// Sink the plaintext, in whole frames, as your storage layer would receive
// it: a run fails as vacuous if no frame was traced at all, or if some
// stream got bytes and never a traced frame, unless WithUntracedStreams
// says that stream holds no media); and derived data that keeps
// no frame's own words carries no canary: counts, levels, hashes, and
// aggregates such as topics or keywords, which keep the words many frames
// share, never one frame's canary. WithNoninterference covers derived data,
// for deterministic bots: each
// passing case is played again with other media in every frame that
// arrived outside a confirmed recording, and the bot must persist exactly
// the same bytes.
//
// # What the bot may tell the suite
//
// Bot is the six handlers every bot has. Optional: Closer (finish
// background work at the end of a case; Close is an event of its own, so
// a graceful shutdown that stops the recording sends its one report as
// Close's), GateReporter (say whether the gate
// is open, checked after every step), Introspector (introspect the
// machine: P3 checks it sends nothing), Env.GateOpened (call it when
// the gate opens: P4, P5 and P9 are then checked at that very moment) and
// Env.GateClosed (call it when the gate closes: during a Stop, Fail or
// CallEnded the suite delivers a frame on every stream right then, so
// admission that outlives the gate, a writer session the hook ends, is
// caught). A bot that reports nothing is still judged on every byte it
// persists and every request it sends; what it gives up is the check of
// a gate that opens wrongly while nothing happens to be written, and the
// frames at the moment its gate closes.
//
// ReferenceBot is recgate's own fsm-based wiring, and passes.
//
// # Fuzzing, files, time
//
// Fuzz is the suite under go test -fuzz. Pass -fuzzminimizetime=1s (or
// so): the suite's cases run goroutines, so coverage varies a little from
// run to run, and Go's minimizer can spend its whole default minute on one
// input with no exec counted. rapid saves a failing case under
// testdata/rapid/ in the package under test and replays it first next
// time; -rapid.nofailfile turns that off. A run of rapid's default 100
// cases takes well under a second for a bot without goroutines of its own.
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
// Seeded bugs in the machine (internal/hooks) prove that the checkers can
// fail: the gate opening on a pending reply or before the reply,
// notRecording sent before the leases drain, the hook after the report,
// CallEnded or Stop closing the gate only behind the lock, a late success
// reopening the gate, the lock let go during a request, and a writer that
// checks and then writes without a lease. Both the property suite and the
// model checker kill every one. The bot-side bugs real teams write
// (pre-roll, derived transcripts, write-behind, optimistic open, ...) are
// in internal/buggybots, each caught by the suite.
//
// # SPIN
//
// Promela exports the same concurrent model for SPIN, with LTL claims for
// P1 and P2 and a vacuity claim that must fail; the tests run spin, gcc
// and pan and check that SPIN's verdicts equal the Go checker's for the
// correct machine and for seeded bugs.
package properties
