package roundthree

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Bots that keep the rule while doing something unusual.

const blockSize = 16

// blockAligned is correct. Its storage takes fixed blocks: each stream's
// frames, admitted under a lease, are appended to a block buffer, every
// full block is written under the lease of the frame that filled it, and
// the recording-ended hook writes each stream's last, partial block before
// it flushes. Canaries cut by a block boundary are in no one write: the
// suite traces fewer frames, but every byte is of the recording.
type blockAligned struct {
	*machineBot
	mu   sync.Mutex
	buf  [][]byte
	size int
}

// NewBlockAligned builds the block-writing bot.
func NewBlockAligned(env *properties.Env) (properties.Bot, error) {
	b := &blockAligned{buf: make([][]byte, env.Streams), size: blockSize}
	mb, err := newMachineBot(env, b.recordingEnded, nil)
	if err != nil {
		return nil, err
	}
	b.machineBot = mb
	return b, nil
}

func (b *blockAligned) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	buf := append(b.buf[stream], payload...)
	for len(buf) >= b.size {
		if _, err := b.env.Sink.Write(stream, buf[:b.size]); err != nil {
			return err
		}
		buf = buf[b.size:]
	}
	b.buf[stream] = append([]byte(nil), buf...)
	return nil
}

func (b *blockAligned) recordingEnded(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, rest := range b.buf {
		if _, err := b.env.Sink.Write(i, rest); err != nil {
			return err
		}
		b.buf[i] = nil
	}
	return b.env.Sink.Flush()
}

const batchFrames = 3

// batchPerStream is correct. Each stream's frames, admitted under a lease,
// are batched; a full batch is written under the lease of the frame that
// completed it, and the hook writes what is left of every batch, then
// flushes. The lease is released twice (explicitly after the write, and by
// the deferred call), which fsm documents as harmless.
type batchPerStream struct {
	*machineBot
	mu    sync.Mutex
	batch [][]byte
	count []int
}

// NewBatchPerStream builds the batching bot.
func NewBatchPerStream(env *properties.Env) (properties.Bot, error) {
	b := &batchPerStream{batch: make([][]byte, env.Streams), count: make([]int, env.Streams)}
	mb, err := newMachineBot(env, b.recordingEnded, nil)
	if err != nil {
		return nil, err
	}
	b.machineBot = mb
	return b, nil
}

func (b *batchPerStream) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batch[stream] = append(b.batch[stream], payload...)
	if b.count[stream]++; b.count[stream] < batchFrames {
		return nil
	}
	_, err = b.env.Sink.Write(stream, b.batch[stream])
	lease.Release() // the write is done; the deferred Release does nothing
	b.batch[stream], b.count[stream] = nil, 0
	return err
}

func (b *batchPerStream) recordingEnded(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, rest := range b.batch {
		if _, err := b.env.Sink.Write(i, rest); err != nil {
			return err
		}
		b.batch[i], b.count[i] = nil, 0
	}
	return b.env.Sink.Flush()
}

// retryingUpdater is Graph middleware: a request that got 429, 503 or 504
// is sent again, the same request with the same clientContext, at most
// twice more. It is what the rule allows; fsm sees one reply.
type retryingUpdater struct{ next fsm.Updater }

func (u retryingUpdater) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, clientContext string) (graph.Operation, error) {
	for i := 0; ; i++ {
		op, err := u.next.UpdateRecordingStatus(ctx, callID, status, clientContext)
		var ge *graph.Error
		if i == 2 || !errors.As(err, &ge) || ctx.Err() != nil {
			return op, err
		}
		switch ge.StatusCode {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			return op, err
		}
	}
}

// NewRetryingUpdater builds the bot whose Graph client retries throttled
// requests with the same clientContext (recording, notRecording, failed).
func NewRetryingUpdater(env *properties.Env) (properties.Bot, error) {
	return newMachineBot(env, flushHook(env), retryingUpdater{next: env.Updater})
}

const segmentFrames = 4

// selfStopSegment is correct. A recording is cut into segments of at most
// segmentFrames frames: the media path, once it has released its lease,
// stops the recording itself (the bot reports notRecording before anyone
// asked it to). Stopping early is allowed: R2 asks only that the
// recording end before it is reported, which Stop does.
type selfStopSegment struct {
	*machineBot
	written atomic.Int64
}

// NewSelfStopSegment builds the bot that stops after a segment.
func NewSelfStopSegment(env *properties.Env) (properties.Bot, error) {
	b := &selfStopSegment{}
	mb, err := newMachineBot(env, func(context.Context, fsm.Trigger) error {
		b.written.Store(0)
		return env.Sink.Flush()
	}, nil)
	if err != nil {
		return nil, err
	}
	b.machineBot = mb
	return b, nil
}

func (b *selfStopSegment) Frame(ctx context.Context, stream int, payload []byte) error {
	if err := b.persist(stream, payload); err != nil {
		return err
	}
	if b.written.Add(1) == segmentFrames {
		return b.m.Stop(ctx) // the lease is released: the segment ends here
	}
	return nil
}

// detachedReport is correct. Stop, Fail and CallEnded run on a context
// detached from the caller's cancellation (the HTTP handler that called
// them may return first) with a deadline of the bot's own, so a report is
// not abandoned half-way.
type detachedReport struct{ *machineBot }

const reportDeadline = 10 * time.Second

// NewDetachedReport builds the bot whose reports outlive their caller.
func NewDetachedReport(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &detachedReport{mb}, nil
}

func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), reportDeadline)
}

func (b *detachedReport) Stop(ctx context.Context) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	return b.m.Stop(ctx)
}

func (b *detachedReport) Fail(ctx context.Context) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	return b.m.Fail(ctx)
}

func (b *detachedReport) CallEnded(ctx context.Context) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	return b.m.CallEnded(ctx)
}

// uploadJob is one frame for the uploader, and where it says it is done.
type uploadJob struct {
	stream  int
	payload []byte
	done    chan error
}

// ackedUpload is correct. Storage is a service: each frame is handed to
// an uploader goroutine (the client's connection), and the media path
// holds its lease until the upload is acknowledged: a lease held across a
// blocking network call. Stop waits for it, as it must.
type ackedUpload struct {
	*machineBot
	jobs chan uploadJob
	quit sync.Once
	done chan struct{}
}

// NewAckedUpload builds the bot that holds its lease across the upload.
func NewAckedUpload(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	b := &ackedUpload{machineBot: mb, jobs: make(chan uploadJob), done: make(chan struct{})}
	go b.upload()
	return b, nil
}

func (b *ackedUpload) upload() {
	defer close(b.done)
	for j := range b.jobs {
		_, err := b.env.Sink.Write(j.stream, j.payload)
		j.done <- err
	}
}

func (b *ackedUpload) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	j := uploadJob{stream: stream, payload: payload, done: make(chan error, 1)}
	b.jobs <- j
	return <-j.done // acknowledged: the bytes are stored
}

// Close stops the uploader (properties.Closer).
func (b *ackedUpload) Close(context.Context) error {
	b.quit.Do(func() { close(b.jobs) })
	<-b.done
	return nil
}
