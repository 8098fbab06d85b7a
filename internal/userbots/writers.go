package userbots

import (
	"context"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Writers that run beside the media path.

const batchSize = 4 // frames per storage write

// batchWriter is a recording's storage writer: a goroutine that collects
// frames and writes them per stream in batches. Close writes what is left
// and waits for the goroutine (C#'s DisposeAsync).
type batchWriter struct {
	sink *properties.Sink
	in   chan tailFrame
	done chan struct{}
	once sync.Once
}

func newBatchWriter(sink *properties.Sink) *batchWriter {
	w := &batchWriter{sink: sink, in: make(chan tailFrame, 64), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *batchWriter) run() {
	defer close(w.done)
	var batch []tailFrame
	write := func() {
		per := map[int][]byte{}
		var order []int
		for _, f := range batch {
			if _, ok := per[f.stream]; !ok {
				order = append(order, f.stream)
			}
			per[f.stream] = append(per[f.stream], f.payload...)
		}
		for _, s := range order {
			_, _ = w.sink.Write(s, per[s])
		}
		batch = nil
	}
	for f := range w.in {
		if batch = append(batch, f); len(batch) >= batchSize {
			write()
		}
	}
	write()
}

// Close writes the last batch and waits for the writer.
func (w *batchWriter) Close() {
	w.once.Do(func() { close(w.in) })
	<-w.done
}

// disposeAfterReport is the bug. A port of C# code that read
//
//	await using var writer = recording.Writer;
//	...
//	await UpdateRecordingStatus(NotRecording);
//
// becomes `defer b.closeWriter()` at the top of Stop. A deferred call
// runs after the return statement, so notRecording is sent first and the
// writer's last batch is written after it (R2, P1).
type disposeAfterReport struct {
	*manualBot
	wmu sync.Mutex
	w   *batchWriter // the current recording's writer
}

// NewDisposeAfterReport builds the bot that closes its writer in a defer.
func NewDisposeAfterReport(env *properties.Env) (properties.Bot, error) {
	return &disposeAfterReport{manualBot: newManualBot(env)}, nil
}

func (b *disposeAfterReport) Frame(_ context.Context, stream int, payload []byte) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if !b.open {
		return errDropped
	}
	b.wmu.Lock()
	if b.w == nil {
		b.w = newBatchWriter(b.env.Sink)
	}
	w := b.w
	b.wmu.Unlock()
	w.in <- tailFrame{stream: stream, payload: append([]byte(nil), payload...)}
	return nil
}

func (b *disposeAfterReport) closeWriter() {
	b.wmu.Lock()
	w := b.w
	b.w = nil
	b.wmu.Unlock()
	if w != nil {
		w.Close()
	}
}

func (b *disposeAfterReport) Stop(ctx context.Context) error {
	defer b.closeWriter()
	return b.report(ctx, graph.StatusNotRecording)
}

func (b *disposeAfterReport) Fail(ctx context.Context) error {
	defer b.closeWriter()
	return b.report(ctx, graph.StatusFailed)
}

func (b *disposeAfterReport) CallEnded(ctx context.Context) error {
	b.close(true)
	b.closeWriter() // here the team got the order right
	return b.manualBot.CallEnded(ctx)
}

// Close stops a writer left running (properties.Closer).
func (b *disposeAfterReport) Close(context.Context) error {
	b.closeWriter()
	return nil
}

// tickerFlush is the bug. To cut storage operations, frames admitted
// under a lease are appended to a per-stream buffer, and a goroutine
// writes the buffers every few milliseconds ("they were admitted inside
// the recording, so writing them later is fine"). The recording-ended
// hook flushes storage but not the buffers: a tick after Stop writes
// frames after notRecording, or in the next recording (R2, P1, P7).
type tickerFlush struct {
	*fsmBot
	mu   sync.Mutex
	buf  [][]byte
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

const tickEvery = 2 * time.Millisecond

// NewTickerFlush builds the bot that writes on a timer.
func NewTickerFlush(env *properties.Env) (properties.Bot, error) {
	b := &tickerFlush{buf: make([][]byte, env.Streams), quit: make(chan struct{}), done: make(chan struct{})}
	fb, err := newFSMBot(env, flushSink(env))
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	go b.run()
	return b, nil
}

func (b *tickerFlush) Frame(_ context.Context, stream int, payload []byte) error {
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
	b.buf[stream] = append(b.buf[stream], payload...)
	b.mu.Unlock()
	return nil
}

func (b *tickerFlush) run() {
	defer close(b.done)
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.mu.Lock()
			for i, p := range b.buf {
				if len(p) > 0 {
					_, _ = b.env.Sink.Write(i, p)
					b.buf[i] = nil
				}
			}
			b.mu.Unlock()
		case <-b.quit:
			return
		}
	}
}

func (b *tickerFlush) stopTicker() {
	b.once.Do(func() { close(b.quit) })
	<-b.done
}

func (b *tickerFlush) CallEnded(ctx context.Context) error {
	err := b.m.CallEnded(ctx)
	b.stopTicker() // the call is gone: drop what is buffered
	return err
}

// Close stops the ticker (properties.Closer); what is buffered is dropped.
func (b *tickerFlush) Close(context.Context) error {
	b.stopTicker()
	return nil
}

// asyncFlushOnHangup is the bug. Frames are batched under the lease and
// the recording-ended hook writes the batch, correctly, on Stop and Fail.
// But Graph's "call terminated" notification must be answered quickly, so
// on CallEnded the hook hands the write to a goroutine and returns: the
// batch lands after the bot said the call's end was handled (R1, P1).
type asyncFlushOnHangup struct {
	*fsmBot
	mu    sync.Mutex
	batch [][]byte
}

// NewAsyncFlushOnHangup builds the bot that flushes in the background when
// the call ends.
func NewAsyncFlushOnHangup(env *properties.Env) (properties.Bot, error) {
	b := &asyncFlushOnHangup{batch: make([][]byte, env.Streams)}
	fb, err := newFSMBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	return b, nil
}

func (b *asyncFlushOnHangup) Frame(_ context.Context, stream int, payload []byte) error {
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
	if len(b.batch[stream]) >= batchSize*32 {
		_, err = b.env.Sink.Write(stream, b.batch[stream])
		b.batch[stream] = nil
	}
	return err
}

func (b *asyncFlushOnHangup) writeBatches() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, p := range b.batch {
		if len(p) > 0 {
			if _, err := b.env.Sink.Write(i, p); err != nil {
				return err
			}
			b.batch[i] = nil
		}
	}
	return b.env.Sink.Flush()
}

func (b *asyncFlushOnHangup) recordingEnded(_ context.Context, why fsm.Trigger) error {
	if why == fsm.CallEnded {
		go func() { _ = b.writeBatches() }() // answer Graph's notification quickly
		return nil
	}
	return b.writeBatches()
}
