package roundeleven

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"fmt"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// zlibInGzipBot packs each frame with zlib (a per-frame codec) and writes
// the packed frames through one gzip.Writer per stream straight over
// env.Sink (the segment file is gzipped), flushing after each frame, under
// fsm's leases; the hook closes the gzip members and flushes. It keeps the
// rule: every frame is written under a lease of a confirmed recording.
type zlibInGzipBot struct {
	m       *fsm.Machine
	sink    *properties.Sink
	streams []*fsm.Stream
	mu      sync.Mutex
	gz      map[int]*gzip.Writer
}

// NewZlibInGzip builds the nested-compression bot.
func NewZlibInGzip(env *properties.Env) (properties.Bot, error) {
	b := &zlibInGzipBot{sink: env.Sink, gz: map[int]*gzip.Writer{}}
	m, err := fsm.New(env.CallID, env.Updater,
		fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error {
			b.mu.Lock()
			for s, w := range b.gz {
				_ = w.Close() // a member cut by a storage fault is dropped with it
				delete(b.gz, s)
			}
			b.mu.Unlock()
			return env.Sink.Flush()
		}),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind == fsm.EventGate && e.Open {
				env.GateOpened()
			}
		}))
	if err != nil {
		return nil, err
	}
	b.m = m
	for i := 0; i < env.Streams; i++ {
		b.streams = append(b.streams, m.Gate().NewStream())
	}
	return b, nil
}

// Frame packs and writes payload under a lease.
func (b *zlibInGzipBot) Frame(_ context.Context, stream int, payload []byte) error {
	if stream < 0 || stream >= len(b.streams) {
		return fmt.Errorf("%w: %d", errNoStream, stream)
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	var packed bytes.Buffer
	z := zlib.NewWriter(&packed)
	_, _ = z.Write(payload)
	_ = z.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.gz[stream]
	if w == nil {
		w = gzip.NewWriter(b.sink.Stream(stream))
		b.gz[stream] = w
	}
	if _, err := w.Write(packed.Bytes()); err != nil {
		delete(b.gz, stream) // a failed write spoils the member: start a new one
		return err
	}
	if err := w.Flush(); err != nil {
		delete(b.gz, stream)
		return err
	}
	return nil
}

// Start asks Graph to record.
func (b *zlibInGzipBot) Start(ctx context.Context) error { _, err := b.m.Start(ctx); return err }

// Stop ends the recording and reports notRecording.
func (b *zlibInGzipBot) Stop(ctx context.Context) error { return b.m.Stop(ctx) }

// Fail ends the recording and reports failed.
func (b *zlibInGzipBot) Fail(ctx context.Context) error { return b.m.Fail(ctx) }

// CallEnded ends the machine.
func (b *zlibInGzipBot) CallEnded(ctx context.Context) error { return b.m.CallEnded(ctx) }

// OperationUpdate feeds Graph's later outcome to the machine.
func (b *zlibInGzipBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.m.OperationUpdate(ctx, op)
}

// GateOpen reports the machine's gate.
func (b *zlibInGzipBot) GateOpen() bool { return b.m.Gate().IsOpen() }
