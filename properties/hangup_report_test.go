package properties

import (
	"context"
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// detachedRetry is the Graph middleware a team writes so that a retry
// "does not inherit the webhook's deadline": a throttled request is sent
// once more on context.WithoutCancel(ctx), whatever happened meanwhile.
type detachedRetry struct{ next fsm.Updater }

func (d detachedRetry) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, cc string) (graph.Operation, error) {
	op, err := d.next.UpdateRecordingStatus(context.WithoutCancel(ctx), callID, status, cc)
	var ge *graph.Error
	if errors.As(err, &ge) && ge.Temporary() {
		return d.next.UpdateRecordingStatus(context.WithoutCancel(ctx), callID, status, cc)
	}
	return op, err
}

// reportThrottledAsTheCallEnds is one case: a confirmed recording, a
// frame, then a Stop whose notRecording Graph throttles while the call
// ends beside it.
func reportThrottledAsTheCallEnds(kind stepKind) scenario {
	throttled := reply{outcome: OutcomeError, retryable: true, text: "429 TooManyRequests",
		err: &graph.Error{StatusCode: 429, Code: "TooManyRequests", Message: "Too many requests"}}
	return scenario{streams: 1, steps: []step{
		{kind: stepStart, replies: []reply{replyCompleted}},
		{kind: stepFrames, frames: []int{0}},
		{kind: kind, replies: []reply{throttled}, concurrent: "callEnded"},
	}}
}

func playScenario(t *testing.T, sc scenario, f Factory) ([]Violation, string) {
	t.Helper()
	vs, failure, _ := playScenarioEvents(t, sc, f)
	return vs, failure
}

// playScenarioEvents plays one case and returns, with its verdict, the
// events as the suite saw them.
func playScenarioEvents(t *testing.T, sc scenario, f Factory) ([]Violation, string, []Event) {
	t.Helper()
	o, err := buildOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRunner(sc, f, o, nil, newCallPair())
	if err != nil {
		t.Fatal(err)
	}
	vs, failure := r.play(context.Background())
	r.env.endCase()
	return vs, failure, r.env.events()
}

// A hang-up while Stop's or Fail's report is throttled: a retry that
// outlives it is sent to a call that is gone (P5); fsm's own Stop, which
// gives the retry up when the call ends, passes. (Before, the suite drew
// concurrent events beside Start's request only, and a retry of a report
// never met a hang-up.)
func TestAHangUpBesideAThrottledReport(t *testing.T) {
	for _, kind := range []stepKind{stepStop, stepFail} {
		t.Run(kind.String(), func(t *testing.T) {
			sc := reportThrottledAsTheCallEnds(kind)
			if vs, failure := playScenario(t, sc, ReferenceBot); len(vs) > 0 || failure != "" {
				t.Fatalf("the reference bot failed the case: %v %s", vs, failure)
			}
			sc = reportThrottledAsTheCallEnds(kind)
			vs, failure := playScenario(t, sc, func(env *Env) (Bot, error) {
				return newReferenceBotOver(env, detachedRetry{env.Updater}, 0)
			})
			if failure != "" {
				t.Fatalf("the case did not play: %s", failure)
			}
			if len(vs) == 0 || vs[0].Invariant.ID != "P5" {
				t.Fatalf("a retry sent after the call ended was not caught as P5: %v", vs)
			}
		})
	}
}

// The draw: every so often a hang-up comes while a report after the
// case's last Start is out, and half the time when Graph throttles that
// report.
func TestHangUpsAreDrawnBesideReports(t *testing.T) {
	var reports, beside, throttled, throttledBeside int
	rapid.Check(t, func(rt *rapid.T) {
		// Twenty scenarios a check: about two hundred throttled reports in
		// a run, so the share below is not left to chance.
		for range 20 {
			steps := drawScenario(rt, false).steps
			last := -1 // hang-ups come only after the case's last Start
			for i, st := range steps {
				if st.kind == stepStart {
					last = i
				}
			}
			for i, st := range steps {
				if st.kind != stepStop && st.kind != stepFail {
					continue
				}
				if i < last {
					if st.concurrent != "" {
						t.Errorf("a hang-up beside a report at step %d, before the Start at step %d: it cuts that recording short", i+1, last+1)
					}
					continue
				}
				reports++
				retry := st.replies[0].retryable
				if retry {
					throttled++
				}
				if st.concurrent == "callEnded" {
					beside++
					if retry {
						throttledBeside++
					}
				}
			}
		}
	})
	t.Logf("a hang-up beside %d of %d reports, %d of %d throttled ones", beside, reports, throttledBeside, throttled)
	if reports == 0 || throttled == 0 {
		t.Fatalf("the draw made %d reports, %d of them throttled: too few to judge", reports, throttled)
	}
	if beside == 0 || 2*throttledBeside < throttled/2 {
		t.Fatalf("a hang-up came beside %d of %d reports and %d of %d throttled ones: want some, and about half the throttled",
			beside, reports, throttledBeside, throttled)
	}
}
