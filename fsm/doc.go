// Package fsm is recgate's compliance machine: the one place that decides
// whether a Teams media bot may persist call media.
//
// Microsoft Graph's terms give two rules:
//
//   - R1: persist nothing before updateRecordingStatus(recording) got a
//     success reply (an operation whose status is completed);
//   - R2: end the recording before reporting notRecording (or failed).
//
// A Machine enforces both for one call. It is a state machine built on
// github.com/qmuntal/stateless:
//
//	NotRecording --Start [graphConfirmedRecording]--> Recording
//	NotRecording --Start [graphPendingRecording]----> AwaitingConfirmation
//	AwaitingConfirmation --OperationUpdate [updateConfirmedRecording]--> Recording
//	Recording --Stop--> Stopping --Stop [graphAcceptedNotRecording]--> NotRecording
//	Recording --Fail--> Stopping --Fail [graphAcceptedFailed]--------> Failed
//	AwaitingConfirmation --ConfirmationTimeout--> Stopping --ConfirmationTimeout [graphAcceptedFailed]--> Failed
//	any state --CallEnded--> Ended
//
// (Machine.DOT, Mermaid and TransitionTable render the whole machine; they
// are drawn from the same table that configures it.)
//
// # The persist gate
//
// Every media write goes through the machine's Gate. A writer takes a Lease
// from its Stream, writes, and releases it; or it wraps its io.Writer with
// Gate.Writer, which does that for each Write. Outside a Graph-confirmed
// recording, Acquire returns ErrGateClosed and nothing is written. Because a
// lease is taken before the write and Stop waits for every lease, the race
// between "check the state" and "write" cannot happen.
//
// The gate opens only as the last step of entering Recording. Stop, Fail and
// CallEnded close it first, at once, before they even wait for the machine's
// lock, so a write cannot slip in while another transition's Graph request
// is in flight. Each close starts a new epoch, and an attempt opens the gate
// only for the epoch it began in: a completed reply that arrives after a
// newer Stop, or after the call ended, never reopens it (ErrSuperseded).
//
// Stop and Fail then follow rule R2 in order: close the gate, wait until
// every lease is released, run the bot's recording-ended hook (flush and
// close files, see WithRecordingEndedHook), and only then send notRecording
// or failed. If that report fails, the machine stays in Stopping with the
// gate closed; call Stop (or Fail) again to retry the report.
//
// Taking and releasing a lease does not allocate and costs about what an
// uncontended sync.RWMutex read lock costs; each Stream keeps its state on a
// cache line of its own, so writers on different streams do not contend.
//
// # Graph requests and attempts
//
// The machine talks to Graph through the Updater interface, which
// *graph.Client satisfies. stateless evaluates guards more than once (every
// guard of a trigger on Fire, and again on CanFire, PermittedTriggers and
// String), so a guard never starts I/O by itself: the attempt, with its
// unique clientContext, travels in the Fire context; the first guard that
// needs Graph's reply sends the one request, and every other guard reads
// the kept reply. Introspection (CanFire, PermittedTriggers, String, DOT)
// sends nothing.
//
// Only completed opens the gate. notStarted, running or a missing status
// moves to AwaitingConfirmation with the gate closed, until OperationUpdate
// delivers the outcome Graph later notifies. failed, an HTTP error, or an
// unknown status leaves the state as it was and returns a *RequestError
// wrapping the cause, which errors.As finds (*graph.Error,
// *graph.OperationError).
//
// # Concurrency
//
// All methods are safe for concurrent use. stateless does not serialize the
// read-guard-write sequence, and its queued mode returns before a trigger
// runs, so the machine fires in immediate mode behind its own lock: one
// transition at a time, in full, and the caller gets its own transition's
// error. The gate lives apart from the stateless state, because stateless
// stores the new state before a transition has finished.
//
// CallEnded cancels the context of a Graph request in flight, closes the
// gate for good, and moves to Ended; after it nothing is sent and nothing
// opens the gate.
//
// Waiting for the machine ends with the caller's context: a Start, Stop,
// Fail, OperationUpdate or CallEnded behind another transition whose Graph
// request hangs returns an error matching ErrMachineBusy and ctx's error
// (context.DeadlineExceeded or context.Canceled) when ctx ends. Stop, Fail
// and CallEnded have closed the gate before they wait, so the rule holds
// whatever the caller's deadline; a CallEnded that gave up still moves the
// machine to Ended once the other transition returns.
//
// # Pending attempts, notifications and many calls
//
// When Graph answers recording with notStarted or running, the outcome
// comes later, as a notification POSTed to the bot's callback URL. Package
// graph/callback authenticates and parses those; a Registry holds one
// Machine per call and routes each notification to it (Registry.Notify):
// an operation update to the pending attempt, matched by its clientContext
// or operation id, a terminated call to CallEnded (the registry then
// forgets the machine). Unknown calls and stale updates are ignored,
// logged and counted (WithIgnoredHook), never returned as errors that
// would make Graph retry. The audit trail records how each outcome came
// (Event.Via: reply, notification, poll or caller) and, for a
// notification, the issuer and tenant that vouched for it.
//
// A pending attempt does not wait for ever: after the confirmation
// deadline (WithConfirmationDeadline, a minute by default) it ends with the
// gate still closed and the machine reports failed (trigger
// ConfirmationTimeout), so Graph's indicator does not say recording for a
// bot that is not; a completed arriving later is stale. Where notifications
// cannot be had, WithOperationPolling reads the operation's Location,
// a bounded number of times.
//
// The machine trusts a custom Updater no more than graph.Client trusts
// Graph: a reply that carries another request's clientContext is refused
// (ErrForeignReply) and opens nothing.
//
// # Errors
//
// A trigger not permitted in the current state returns a *TransitionError
// naming both (errors.Is(err, ErrNotPermitted)); nothing is sent and nothing
// changes. Bad input (an invalid call ID, a nil Updater, an over-long
// clientContext from a custom generator) is an error, never a panic.
package fsm
