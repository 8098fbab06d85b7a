package fsm

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"

	"github.com/recgate/recgate/graph"
)

// RecoverTrigger is the Trigger name recovery writes on the records it
// appends to a trail, so a reviewer can tell them from the dead process's.
const RecoverTrigger = "Recover"

// InterruptedCall is what a journal trail knows about a call that its
// process left without a clean end: what the recovery hook gets.
type InterruptedCall struct {
	// CallID is the call's ID; Trail the path of its trail file (name the
	// machine's media files after it to find them again).
	CallID, Trail string
	// State is the last state the dead process's records show (records an
	// earlier, unfinished recovery appended are not counted: a retried
	// hook is told the call as the first one was).
	State State
	// GateOpen: the dead process's records end with the gate open (it died
	// while recording), or with the authorization that was about to open
	// it (it is synced before the gate opens; the gate's own record follows
	// the opening, so the gate may have been open without it). Epoch is the
	// gate's epoch in that record.
	GateOpen bool
	Epoch    uint64
	// PendingRequest is the clientContext of a request the trail shows as
	// sent with no reply recorded (the process died during it), and
	// PendingStatus its status.
	PendingRequest string
	PendingStatus  graph.Status
	// Records is the whole verified trail.
	Records []AuditRecord
}

// RecoveryHook seals what the dead process left of an interrupted call
// (for example: truncate each media file to the last whole frame, sync it,
// mark it final). It runs before failed is reported (rule R2), and only
// for a trail of a process that is gone (OpenJournal's lock sees to that;
// Recover leaves the trails its own Journal created alone).
//
// An error stops the recovery of that call before anything is reported;
// the trail stays in the journal, and the next Recover runs the hook again.
// Once the hook has succeeded, its success is synced to the trail, and a
// later Recover (one whose report of failed did not reach Graph: a 503, a
// 401, a timeout) does not run it again: it goes straight to reporting
// failed. A nil hook counts as one that succeeded. The hook may still run
// twice for one call when the process dies between the hook's return and
// that record (or the record cannot be written), so make it idempotent:
// cutting a file to its last whole frame twice must do no harm.
type RecoveryHook func(ctx context.Context, call InterruptedCall) error

// RecoveryOutcome says what Recover did with one trail.
type RecoveryOutcome string

// The outcomes of one trail's recovery.
const (
	// RecoveryClean: the trail ended cleanly (the call ended, or Graph was
	// told notRecording or failed and replied); nothing was done.
	RecoveryClean RecoveryOutcome = "clean"
	// RecoveryReported: the hook ran and Graph replied to failed.
	RecoveryReported RecoveryOutcome = "reported-failed"
	// RecoveryCallGone: the hook ran and Graph answered 404 to failed: the
	// call no longer exists, and the trail now ends it.
	RecoveryCallGone RecoveryOutcome = "call-gone"
	// RecoveryNonCompliance: the hook ran and Graph refused failed with
	// 8506: the call is not (or no longer) a compliance-recording call, a
	// refusal no retry can change, and the trail now ends it as failed.
	RecoveryNonCompliance RecoveryOutcome = "non-compliance"
	// RecoveryHookFailed: the hook returned an error; nothing was reported.
	RecoveryHookFailed RecoveryOutcome = "hook-failed"
	// RecoveryReportFailed: failed could not be reported (Graph refused it,
	// other than with 404 or 8506, or could not be reached); the next
	// Recover tries again.
	RecoveryReportFailed RecoveryOutcome = "report-failed"
	// RecoveryUnreadable: the trail does not verify or cannot be read or
	// appended to; it was left alone.
	RecoveryUnreadable RecoveryOutcome = "unreadable"
	// RecoveryOwnTrail: the trail was created by this Journal, so its
	// machine belongs to this live process, which may still be recording
	// on it; Recover leaves it (and its media) to that machine. Not an
	// error: it is what a Recover retried while the bot serves calls finds.
	RecoveryOwnTrail RecoveryOutcome = "own-trail"
)

// CallRecovery is the outcome of one trail.
type CallRecovery struct {
	InterruptedCall
	Outcome RecoveryOutcome
	// ClientContext is the failed request's, when one was sent.
	ClientContext string
	// TornBytes is how many bytes of a half-written last line were cut
	// from the trail before it was read.
	TornBytes int
	// HookSkipped: an earlier Recover's hook succeeded for this call (its
	// trail says so), so the hook did not run again; only failed was
	// reported.
	HookSkipped bool
	// Err says what went wrong, for the outcomes that are not success.
	Err error
}

// RecoveryReport is what Journal.Recover did, trail by trail.
type RecoveryReport struct {
	Calls []CallRecovery
}

// Count returns how many trails had outcome o.
func (r RecoveryReport) Count(o RecoveryOutcome) int {
	n := 0
	for _, c := range r.Calls {
		if c.Outcome == o {
			n++
		}
	}
	return n
}

// Recover puts right every call the journal shows as not cleanly ended,
// one trail after the other: a trail whose last state is Recording,
// AwaitingConfirmation or Stopping, that ends with the gate open, or that
// shows a request sent with no reply or a recording Graph was never told
// had ended. For each, it appends (and syncs) the gate closing if the
// trail ends with it open, runs hook, then sends failed through u and
// appends the request and its reply; a 404 ("the call no longer exists")
// ends the call in the trail. Nothing reopens the gate: a recording needs a
// new machine, a new Start and a new completed. A trail recovered (or
// clean) is clean to the next Recover, which does nothing with it.
//
// Recover only touches trails of a process that is gone: OpenJournal's
// lock keeps other live processes out of the journal, and the trails this
// Journal created (this process's own machines, live or done) are left to
// their machines (outcome RecoveryOwnTrail, or RecoveryClean when they
// ended cleanly). Call it at start-up, before any new Start; it may be
// called again later (see below).
//
// The error joins the errors of the trails that could not be recovered;
// the report says what happened to each, and the other trails were
// recovered. When it fails (Graph answered 503 or 401, or timed out; the
// hook failed) nothing is lost and nothing is unsafe: every trail it
// could not finish stays in the journal (ArchiveEnded keeps it), its gate
// closed in the trail (that record is synced before the hook runs), and
// the next Recover takes it up where it stopped: it runs the hook again
// only if the hook had not yet succeeded (see RecoveryHook), and sends
// failed again with a new clientContext. Until failed reaches Graph, Graph
// may still show that call as recording although nothing is persisted.
// So the bot may go on: start serving new calls, and retry Recover with a
// backoff (in the background, on the same Journal) until it returns nil;
// or exit non-zero and let its supervisor restart it, which retries at the
// next start-up. Do not start a new recording of a call the report names
// as not recovered (RecoveryHookFailed, RecoveryReportFailed) before a
// Recover has recovered it: a failed report that lands later would tell
// Graph the new recording failed while it persists media. A trail
// RecoveryUnreadable does not verify and needs a person.
func (j *Journal) Recover(ctx context.Context, u Updater, hook RecoveryHook) (RecoveryReport, error) {
	done, err := j.use("Recover")
	if err != nil {
		return RecoveryReport{}, err
	}
	defer done()
	if isNil(u) {
		return RecoveryReport{}, fmt.Errorf("fsm: Journal.Recover: nil Updater (%T): pass a *graph.Client or another Updater", u)
	}
	trails, err := j.trails()
	if err != nil {
		return RecoveryReport{}, err
	}
	var rep RecoveryReport
	var errs []error
	for _, path := range trails {
		var c CallRecovery
		if j.owns(path) {
			c = ownTrail(path)
		} else {
			c = RecoverTrail(ctx, path, u, hook)
			if c.Outcome == RecoveryUnreadable && errors.Is(c.Err, fs.ErrNotExist) {
				// Moved since it was listed: ArchiveEnded moves only the
				// trails of calls that are over, so there is nothing to do.
				continue
			}
		}
		rep.Calls = append(rep.Calls, c)
		if c.Err != nil {
			errs = append(errs, c.Err)
		}
	}
	return rep, errors.Join(errs...)
}

// ownTrail reads, without changing it, a trail of this process's own
// machines: clean if it ended cleanly, RecoveryOwnTrail otherwise. A
// last line being written now is not looked at.
func ownTrail(path string) CallRecovery {
	c := CallRecovery{InterruptedCall: InterruptedCall{Trail: path}, Outcome: RecoveryOwnTrail}
	data, err := os.ReadFile(path)
	if err != nil {
		return c
	}
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	recs, _, err := verifyAudit(bytes.NewReader(data))
	if err != nil {
		return c
	}
	c.Records = recs
	if len(recs) > 0 {
		c.CallID = recs[0].CallID
		st := readTrail(recs)
		c.State, c.GateOpen, c.Epoch = st.state, st.gateOpen, st.epoch
		c.PendingRequest, c.PendingStatus = st.pending, st.pendingStatus
		if st.needsRecovery() {
			return c
		}
	}
	c.Outcome = RecoveryClean
	return c
}

// RecoverTrail recovers the one trail file at path (see Journal.Recover).
// It takes no lock: the caller must know that no live process writes the
// trail (the process that holds its journal, for example, on a trail it
// found there and did not create).
func RecoverTrail(ctx context.Context, path string, u Updater, hook RecoveryHook) CallRecovery {
	c := CallRecovery{InterruptedCall: InterruptedCall{Trail: path}}
	if isNil(u) {
		c.Outcome, c.Err = RecoveryUnreadable, fmt.Errorf("fsm: RecoverTrail: nil Updater (%T)", u)
		return c
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		c.Outcome, c.Err = RecoveryUnreadable, fmt.Errorf("fsm: opening trail %s for recovery: %w", path, err)
		return c
	}
	defer f.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		c.Outcome, c.Err = RecoveryUnreadable, fmt.Errorf("fsm: reading trail %s: %w", path, err)
		return c
	}
	// A last line without its newline was being written when the process
	// died: its Write never returned, so the machine never acted on it.
	if n := len(data); n > 0 && data[n-1] != '\n' {
		keep := bytes.LastIndexByte(data, '\n') + 1
		err := f.Truncate(int64(keep))
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			c.Outcome, c.Err = RecoveryUnreadable, fmt.Errorf("fsm: cutting the half-written last line of %s: %w", path, err)
			return c
		}
		c.TornBytes, data = n-keep, data[:keep]
	}
	recs, head, err := verifyAudit(bytes.NewReader(data))
	if err != nil {
		c.Outcome, c.Err = RecoveryUnreadable, fmt.Errorf("fsm: trail %s cannot be recovered: %w", path, err)
		return c
	}
	c.Records = recs
	if len(recs) == 0 {
		c.Outcome = RecoveryClean // nothing was ever sent: a request is recorded before it is
		return c
	}
	c.CallID = recs[0].CallID
	st := readTrail(recs)
	// The hook is told the call as the dead process left it, also when an
	// earlier recovery got part of the way (its records close the gate and
	// move to Stopping); what to append follows the trail as it is now. A
	// trail that needs nothing more is reported as it is now.
	c.State, c.GateOpen, c.Epoch = st.state, st.gateOpen, st.epoch
	if st.needsRecovery() {
		c.State, c.GateOpen, c.Epoch = st.left.state, st.left.gateOpen, st.left.epoch
	}
	c.PendingRequest, c.PendingStatus = st.pending, st.pendingStatus
	if !st.needsRecovery() {
		c.Outcome = RecoveryClean
		return c
	}
	last := recs[len(recs)-1]
	a := &trailAppender{f: f, callID: c.CallID, seq: last.Seq, prev: head, last: last.Time}
	c.HookSkipped = st.recoveryHookDone
	recoverCall(ctx, &c, st, a, u, hook)
	return c
}

// recoverCall appends the closing, runs the hook and reports failed. now
// is the trail as it is (an earlier recovery may have closed the gate and
// moved to Stopping already).
func recoverCall(ctx context.Context, c *CallRecovery, now trailState, a *trailAppender, u Updater, hook RecoveryHook) {
	fail := func(o RecoveryOutcome, err error) {
		c.Outcome, c.Err = o, fmt.Errorf("fsm: recovering call %s (%s): %w", c.CallID, c.Trail, err)
	}
	if now.gateOpen {
		closed := false
		if err := a.add(AuditRecord{Kind: EventGate, Trigger: RecoverTrigger, GateOpen: &closed, Epoch: now.epoch,
			Error: "the process died with the gate open; recovery closes it"}); err != nil {
			fail(RecoveryUnreadable, err)
			return
		}
	}
	if now.state != Stopping {
		if err := a.add(AuditRecord{Kind: EventTransition, Trigger: RecoverTrigger, From: now.state.String(), To: Stopping.String()}); err != nil {
			fail(RecoveryUnreadable, err)
			return
		}
	}
	// No lease outlives its process.
	if err := a.add(AuditRecord{Kind: EventLeasesDrained, Trigger: RecoverTrigger}); err != nil {
		fail(RecoveryUnreadable, err)
		return
	}
	var hookErr error
	if !c.HookSkipped {
		// An earlier recovery's hook that succeeded sealed the files:
		// nothing was written since (the gate is closed in the trail).
		if hook != nil {
			hookErr = hook(ctx, c.InterruptedCall)
		}
		ran := AuditRecord{Kind: EventHookRan, Trigger: RecoverTrigger}
		if hookErr != nil {
			ran.Error = hookErr.Error()
		}
		if err := a.add(ran); err != nil {
			fail(RecoveryUnreadable, err)
			return
		}
	}
	if hookErr != nil {
		fail(RecoveryHookFailed, fmt.Errorf("the recovery hook failed, so failed is not reported: %w; fix what the hook needs, and the next Recover runs it again", hookErr))
		return
	}
	cc, err := recoveryContext()
	if err != nil {
		fail(RecoveryReportFailed, err)
		return
	}
	c.ClientContext = cc
	if err := a.add(AuditRecord{Kind: EventRequest, Trigger: RecoverTrigger, Status: string(graph.StatusFailed), ClientContext: cc}); err != nil {
		fail(RecoveryUnreadable, err)
		return
	}
	op, err := u.UpdateRecordingStatus(ctx, c.CallID, graph.StatusFailed, cc)
	if err == nil && op.ClientContext != "" && op.ClientContext != cc {
		err = fmt.Errorf("%w: the reply carries clientContext %q, the request sent %q", ErrForeignReply, op.ClientContext, cc)
	}
	reply := describe(Event{Kind: EventReply, Status: graph.StatusFailed, ClientContext: cc, Operation: op, Err: err, Via: ViaReply})
	reply.Trigger = RecoverTrigger
	if addErr := a.add(reply); addErr != nil {
		fail(RecoveryUnreadable, addErr)
		return
	}
	var ge *graph.Error
	switch {
	case errors.As(err, &ge) && ge.StatusCode == http.StatusNotFound:
		if err := a.add(AuditRecord{Kind: EventTransition, Trigger: RecoverTrigger, From: Stopping.String(), To: Ended.String()}); err != nil {
			fail(RecoveryUnreadable, err)
			return
		}
		c.Outcome = RecoveryCallGone
	case graph.IsNonCompliance(err):
		if err := a.add(AuditRecord{Kind: EventTransition, Trigger: RecoverTrigger, From: Stopping.String(), To: Failed.String()}); err != nil {
			fail(RecoveryUnreadable, err)
			return
		}
		c.Outcome = RecoveryNonCompliance
	case err != nil:
		fail(RecoveryReportFailed, fmt.Errorf("reporting failed: %w", err))
	default:
		if err := a.add(AuditRecord{Kind: EventTransition, Trigger: RecoverTrigger, From: Stopping.String(), To: Failed.String()}); err != nil {
			fail(RecoveryUnreadable, err)
			return
		}
		c.Outcome = RecoveryReported
	}
}

// recoveryContext is a fresh clientContext for a recovery's report.
func recoveryContext() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("fsm: drawing a clientContext: %w", err)
	}
	return "recover-" + hex.EncodeToString(b[:]), nil
}
