package roundtwelve

import (
	"context"
	"errors"
	"sync"

	"github.com/google/uuid"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// The second team of this round sends every Graph request from one
// goroutine: Graph throttles per application, so one sender owns the
// client and paces what goes out; handlers hand it a request and wait
// for the reply (or for their context). The machine gets the sender as
// its fsm.Updater and cannot tell the difference.

// graphSender is that goroutine, as an fsm.Updater.
type graphSender struct {
	next     fsm.Updater
	requests chan senderJob
	stop     chan struct{}
	stopped  sync.WaitGroup
	once     sync.Once
}

type senderJob struct {
	ctx        context.Context
	callID, cc string
	status     graph.Status
	reply      chan senderReply
}

type senderReply struct {
	op  graph.Operation
	err error
}

func newGraphSender(next fsm.Updater) *graphSender {
	s := &graphSender{next: next, requests: make(chan senderJob), stop: make(chan struct{})}
	s.stopped.Add(1)
	go s.run()
	return s
}

// errSenderClosed is what a request gets once the bot is shut down.
var errSenderClosed = errors.New("roundtwelve: the Graph sender is shut down; the request was not sent")

func (s *graphSender) run() {
	defer s.stopped.Done()
	for {
		select {
		case <-s.stop:
			return
		case j := <-s.requests:
			op, err := s.next.UpdateRecordingStatus(j.ctx, j.callID, j.status, j.cc)
			j.reply <- senderReply{op, err} // buffered: never blocks
		}
	}
}

// UpdateRecordingStatus hands the request to the sender and waits.
func (s *graphSender) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, cc string) (graph.Operation, error) {
	j := senderJob{ctx: ctx, callID: callID, status: status, cc: cc, reply: make(chan senderReply, 1)}
	select {
	case s.requests <- j:
	case <-ctx.Done():
		return graph.Operation{}, ctx.Err()
	case <-s.stop:
		return graph.Operation{}, errSenderClosed
	}
	// Once handed over, the request is on the wire: wait for its reply,
	// which the sender delivers even when ctx ended (the client returns
	// then).
	r := <-j.reply
	return r.op, r.err
}

// close stops the sender and waits for it.
func (s *graphSender) close() {
	s.once.Do(func() { close(s.stop) })
	s.stopped.Wait()
}

// senderBot is the README wiring with every request sent by the sender.
// With stopOnHangup, CallEnded first stops a recording in progress ("so
// Graph's indicator is cleared before we leave the call"), then ends the
// machine.
type senderBot struct {
	*fsmBot
	sender       *graphSender // nil: the team's first version, requests sent inline
	stopOnHangup bool
}

func newSenderBot(env *properties.Env, viaSender, stopOnHangup bool) (*senderBot, error) {
	b := &senderBot{stopOnHangup: stopOnHangup}
	w := wiring{}
	if viaSender {
		b.sender = newGraphSender(env.Updater)
		w.updater = b.sender
	}
	base, err := newFSMBot(env, w)
	if err != nil {
		if b.sender != nil {
			b.sender.close()
		}
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

// NewGraphSender is the sender done right: the machine decides, the
// sender only carries its requests.
func NewGraphSender(env *properties.Env) (properties.Bot, error) {
	return newSenderBot(env, true, false)
}

// NewHangupStopsViaSender stops the recording when the call ends, with
// every request sent by the sender: notRecording goes out after the call
// ended (Graph answers 404 for a call that is gone, and P5 forbids it).
func NewHangupStopsViaSender(env *properties.Env) (properties.Bot, error) {
	return newSenderBot(env, true, true)
}

// NewHangupStopsInline is the same hang-up handler in the team's first
// version, before the sender: the requests go out from the handler.
func NewHangupStopsInline(env *properties.Env) (properties.Bot, error) {
	return newSenderBot(env, false, true)
}

// CallEnded stops a recording in progress first, when the team chose to.
func (b *senderBot) CallEnded(ctx context.Context) error {
	if b.stopOnHangup && b.m.State() == fsm.Recording {
		_ = b.m.Stop(ctx) // best effort: the call is ending anyway
	}
	return b.m.CallEnded(ctx)
}

// Close stops the sender.
func (b *senderBot) Close(context.Context) error {
	if b.sender != nil {
		b.sender.close()
	}
	return nil
}

// reportRetryBot calls the machine's Stop (or Fail) again when the report
// did not get through, as fsm's documentation says ("If that request
// fails the machine stays in Stopping with the gate closed and the error
// is returned; call Stop again to retry the report"): up to three tries,
// after a timeout, a 5xx or a failed operation; never after 8506, a
// terminated call or once the machine left Stopping.
type reportRetryBot struct {
	*senderBot
}

// NewStopRetriesReport builds the bot that retries its report inline.
func NewStopRetriesReport(env *properties.Env) (properties.Bot, error) {
	b, err := newSenderBot(env, false, false)
	if err != nil {
		return nil, err
	}
	return &reportRetryBot{b}, nil
}

// NewStopRetriesReportViaSender is the same, with the requests sent by
// the sender goroutine.
func NewStopRetriesReportViaSender(env *properties.Env) (properties.Bot, error) {
	b, err := newSenderBot(env, true, false)
	if err != nil {
		return nil, err
	}
	return &reportRetryBot{b}, nil
}

// Stop ends the recording, retrying the report.
func (b *reportRetryBot) Stop(ctx context.Context) error { return b.retry(ctx, b.m.Stop) }

// Fail ends the recording as failed, retrying the report.
func (b *reportRetryBot) Fail(ctx context.Context) error { return b.retry(ctx, b.m.Fail) }

func (b *reportRetryBot) retry(ctx context.Context, end func(context.Context) error) error {
	err := end(ctx)
	for try := 1; try < 3 && err != nil && reportWorthRetrying(err) && b.m.State() == fsm.Stopping && ctx.Err() == nil; try++ {
		err = end(ctx)
	}
	return err
}

// reportWorthRetrying: a report that may not have reached Graph, or that
// Graph could not take now.
func reportWorthRetrying(err error) bool {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return ge.StatusCode >= 500 || ge.StatusCode == 429
	}
	var oe *graph.OperationError
	if errors.As(err, &oe) {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// indicatorRefreshBot sends notRecording once more after the machine's
// Stop succeeded: "Teams' red dot sometimes sticks; a second notRecording
// clears it". It goes through the bot's Graph path, with a clientContext
// of its own.
type indicatorRefreshBot struct {
	*senderBot
	graph fsm.Updater
}

func newIndicatorRefresh(env *properties.Env, viaSender bool) (properties.Bot, error) {
	b, err := newSenderBot(env, viaSender, false)
	if err != nil {
		return nil, err
	}
	var g fsm.Updater = env.Updater
	if b.sender != nil {
		g = b.sender
	}
	return &indicatorRefreshBot{senderBot: b, graph: g}, nil
}

// NewDoubleReportViaSender sends the second notRecording through the
// sender goroutine (the team's DoubleReport of round three, after they
// moved every request to the sender).
func NewDoubleReportViaSender(env *properties.Env) (properties.Bot, error) {
	return newIndicatorRefresh(env, true)
}

// Stop stops the machine, then clears the indicator once more.
func (b *indicatorRefreshBot) Stop(ctx context.Context) error {
	if err := b.m.Stop(ctx); err != nil {
		return err
	}
	_, err := b.graph.UpdateRecordingStatus(ctx, b.env.CallID, graph.StatusNotRecording, "indicator-refresh-"+uuid.NewString())
	return err
}
