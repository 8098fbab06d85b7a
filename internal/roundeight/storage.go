package roundeight

import (
	"context"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// blobClient is the storage SDK of UploadRetryAfterStop: Append tries once
// inline and, on a transient failure, hands the block to a retry goroutine
// with exponential backoff and reports success ("accepted"), so that a
// storage outage never blocks the 20 ms media thread.
type blobClient struct {
	st    storage
	delay time.Duration // the first retry's backoff
	tries int           // retries before the block is dropped
	wg    sync.WaitGroup
}

// Append persists p on stream, now or (after a transient failure) later.
func (c *blobClient) Append(stream int, p []byte) error {
	_, err := c.st.Write(stream, p)
	if err == nil || !transient(err) {
		return err
	}
	block := append([]byte(nil), p...)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		delay := c.delay
		for i := 0; i < c.tries; i++ {
			time.Sleep(delay)
			if _, err := c.st.Write(stream, block); err == nil || !transient(err) {
				return
			}
			delay *= 2
		}
	}()
	return nil // accepted: the SDK retries in the background
}

// NewUploadRetryAfterStop builds a bot that persists each frame under its
// lease through blobClient. The first attempt is under the lease; a retry
// of a failed one lands whenever its backoff ends: after the lease was
// released, after Stop's drain, after notRecording. The suite's Sink fails the
// first write of some frames (properties.ErrStorageFault), and the retry
// lands where P1 sees it.
func NewUploadRetryAfterStop(env *properties.Env) (properties.Bot, error) {
	return newUploadRetry(env, env.Sink)
}

func newUploadRetry(env *properties.Env, st storage) (properties.Bot, error) {
	return newUploadRetryOn(env.CallID, env.Updater, env.Streams, st, env.GateOpened)
}

func newUploadRetryOn(callID string, u fsm.Updater, n int, st storage, opened func()) (*uploadRetryBot, error) {
	client := &blobClient{st: st, delay: 15 * time.Millisecond, tries: 4}
	base, err := newFSMBot(callID, u, n, st, wiring{opened: opened})
	if err != nil {
		return nil, err
	}
	return &uploadRetryBot{fsmBot: base, client: client}, nil
}

type uploadRetryBot struct {
	*fsmBot
	client *blobClient
}

func (b *uploadRetryBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	return b.client.Append(stream, p)
}

// Close waits for the SDK's retries (the process's shutdown does).
func (b *uploadRetryBot) Close(context.Context) error {
	b.client.wg.Wait()
	return nil
}

// NewStorageRetryUnderLease builds a correct bot whose storage client
// retries a transient failure at once, up to three times, while the
// frame's lease is still held, and drops the frame if every try fails:
// Stop's drain waits for the retries, so none lands after the report. Its
// rows run it on faultyStorage, whose faults the suite's Sink lacks.
func NewStorageRetryUnderLease(env *properties.Env, st storage) (properties.Bot, error) {
	base, err := newFSMBot(env.CallID, env.Updater, env.Streams, st, wiring{opened: env.GateOpened})
	if err != nil {
		return nil, err
	}
	return &retryUnderLeaseBot{fsmBot: base}, nil
}

type retryUnderLeaseBot struct{ *fsmBot }

func (b *retryUnderLeaseBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	for try := 0; ; try++ {
		_, err = b.store.Write(stream, p)
		if err == nil || !transient(err) || try == 3 {
			return err
		}
	}
}

// minPart is the smallest part the multipart upload of MultipartPartCarry
// takes, except the last (S3's 5 MiB, scaled to the suite's short frames).
const minPart = 256

// NewMultipartPartCarry builds a bot with one multipart upload per call:
// frames are appended, under their lease, to a part buffer per stream, and
// a full part (minPart bytes) is uploaded under the lease of the frame that
// filled it. Parts must be minPart long except the last, so the hook of a
// Stop or Fail uploads nothing ("the upload stays open for the next
// recording"), and CompleteMultipartUpload at hang-up uploads what is left:
// a recording's tail is uploaded inside the next recording, or at the end
// of the call after notRecording.
func NewMultipartPartCarry(env *properties.Env) (properties.Bot, error) {
	b := &multipartBot{parts: make([][]byte, env.Streams)}
	base, err := newEnvBot(env, wiring{hook: b.hook})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

type multipartBot struct {
	*fsmBot
	mu    sync.Mutex
	parts [][]byte
}

func (b *multipartBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.parts[stream] = append(b.parts[stream], p...)
	if len(b.parts[stream]) < minPart {
		return nil
	}
	part := b.parts[stream]
	b.parts[stream] = nil
	_, err = b.store.Write(stream, part)
	return err
}

func (b *multipartBot) hook(_ context.Context, t fsm.Trigger) error {
	if t == fsm.CallEnded {
		// CompleteMultipartUpload: the last part may be short.
		b.mu.Lock()
		for i, part := range b.parts {
			if len(part) > 0 {
				if _, err := b.store.Write(i, part); err != nil {
					b.mu.Unlock()
					return err
				}
			}
			b.parts[i] = nil
		}
		b.mu.Unlock()
	}
	return b.store.Flush()
}

// CallEnded completes the upload even when no recording is under way (the
// machine runs the hook only when it leaves Recording).
func (b *multipartBot) CallEnded(ctx context.Context) error {
	err := b.m.CallEnded(ctx)
	if herr := b.hook(ctx, fsm.CallEnded); err == nil {
		err = herr
	}
	return err
}

// NewParallelFinalUpload builds a correct bot that keeps each stream's
// frames in memory, appended under the frame's lease, and uploads every
// stream's recording in parallel from the recording-ended hook, a
// goroutine per stream, waiting for all of them before it flushes. On
// CallEnded too: the hook runs while the bot handles the end of the call,
// before CallEnded returns.
func NewParallelFinalUpload(env *properties.Env) (properties.Bot, error) {
	b := &parallelUploadBot{bufs: make([][]byte, env.Streams)}
	base, err := newEnvBot(env, wiring{hook: b.hook})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

type parallelUploadBot struct {
	*fsmBot
	mu   sync.Mutex
	bufs [][]byte
}

func (b *parallelUploadBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	b.bufs[stream] = append(b.bufs[stream], p...)
	b.mu.Unlock()
	return nil
}

func (b *parallelUploadBot) hook(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	bufs := b.bufs
	b.bufs = make([][]byte, len(bufs))
	b.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(bufs))
	for i, buf := range bufs {
		if len(buf) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = b.store.Write(i, buf)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return b.store.Flush()
}
