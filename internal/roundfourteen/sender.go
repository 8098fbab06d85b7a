package roundfourteen

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// The first team of this round sends every Graph request from one
// goroutine (Graph throttles per application), as round twelve's did, but
// follows the Go advice "do not store contexts in structs": a job on the
// sender's channel carries the request, not the handler's context. The
// sender bounds each request with a deadline of its own, derived from the
// bot's lifetime context ("a request on the wire is not cancelled because
// a webhook gave up; shutting the bot down cancels it"). The handler
// still waits for the reply. To the suite such a request carries no bot
// call's context, so it is nobody's (properties/play.go madeFor).

// senderRequestTimeout bounds one request the sender makes.
const senderRequestTimeout = 5 * time.Second

// detachedSender is that goroutine, as an fsm.Updater.
type detachedSender struct {
	next     fsm.Updater
	life     context.Context
	shutdown context.CancelFunc
	jobs     chan senderJob
	stopped  sync.WaitGroup
	once     sync.Once
}

type senderJob struct {
	callID, cc string
	status     graph.Status
	reply      chan senderReply
}

type senderReply struct {
	op  graph.Operation
	err error
}

// errSenderClosed is what a request gets once the bot is shut down.
var errSenderClosed = errors.New("roundfourteen: the Graph sender is shut down; the request was not sent")

func newDetachedSender(next fsm.Updater) *detachedSender {
	life, shutdown := context.WithCancel(context.Background())
	s := &detachedSender{next: next, life: life, shutdown: shutdown, jobs: make(chan senderJob)}
	s.stopped.Add(1)
	go s.run()
	return s
}

func (s *detachedSender) run() {
	defer s.stopped.Done()
	for {
		select {
		case <-s.life.Done():
			return
		case j := <-s.jobs:
			ctx, cancel := context.WithTimeout(s.life, senderRequestTimeout)
			op, err := s.next.UpdateRecordingStatus(ctx, j.callID, j.status, j.cc)
			cancel()
			j.reply <- senderReply{op, err} // buffered: never blocks
		}
	}
}

// UpdateRecordingStatus hands the request to the sender and waits for
// its reply (or for the caller's context, before it is handed over).
func (s *detachedSender) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, cc string) (graph.Operation, error) {
	j := senderJob{callID: callID, status: status, cc: cc, reply: make(chan senderReply, 1)}
	select {
	case s.jobs <- j:
	case <-ctx.Done():
		return graph.Operation{}, ctx.Err()
	case <-s.life.Done():
		return graph.Operation{}, errSenderClosed
	}
	r := <-j.reply
	return r.op, r.err
}

// close stops the sender and waits for it.
func (s *detachedSender) close() {
	s.once.Do(s.shutdown)
	s.stopped.Wait()
}

// senderBot is the README wiring with every request sent by the
// detached sender. With stopOnHangup, CallEnded first stops a recording
// in progress ("clear Graph's indicator before we leave the call"); with
// refreshIndicator, Stop sends notRecording once more after the machine's
// ("Teams' red dot sometimes sticks").
type senderBot struct {
	*fsmBot
	sender           *detachedSender
	stopOnHangup     bool
	refreshIndicator bool
}

func newSenderBot(env *properties.Env, stopOnHangup, refreshIndicator bool) (*senderBot, error) {
	s := newDetachedSender(env.Updater)
	base, err := newFSMBot(env, wiring{updater: s})
	if err != nil {
		s.close()
		return nil, err
	}
	return &senderBot{fsmBot: base, sender: s, stopOnHangup: stopOnHangup, refreshIndicator: refreshIndicator}, nil
}

// NewDetachedSender is the sender done right: the machine decides, the
// sender only carries its requests, on contexts of its own.
func NewDetachedSender(env *properties.Env) (properties.Bot, error) {
	return newSenderBot(env, false, false)
}

// NewHangupStopsDetached stops the recording when the call ends, through
// the detached sender: notRecording goes to a call that is gone (P5).
func NewHangupStopsDetached(env *properties.Env) (properties.Bot, error) {
	return newSenderBot(env, true, false)
}

// NewDoubleReportDetached sends a second notRecording after the
// machine's Stop succeeded, through the detached sender (P3).
func NewDoubleReportDetached(env *properties.Env) (properties.Bot, error) {
	return newSenderBot(env, false, true)
}

// Stop stops the machine and, when the team chose to, clears the
// indicator once more.
func (b *senderBot) Stop(ctx context.Context) error {
	if err := b.m.Stop(ctx); err != nil || !b.refreshIndicator {
		return err
	}
	_, err := b.sender.UpdateRecordingStatus(ctx, b.env.CallID, graph.StatusNotRecording, "indicator-refresh-"+uuid.NewString())
	return err
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
	b.sender.close()
	return nil
}
