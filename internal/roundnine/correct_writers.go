package roundnine

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// bufioSize is the buffer of the bots that put a bufio.Writer over the
// Sink: a few of the suite's frames (about 40 bytes each), so that a full
// buffer is written under the lease of the frame that filled it, and the
// rest by the hook.
const bufioSize = 256

// NewBufioDropsRecording builds a bot that writes each stream of a
// recording through a bufio.Writer over env.Sink.Stream(i), made on the
// stream's first frame under a lease. A bufio.Writer's error is sticky:
// once storage failed a write, every later Write and Flush returns it, so
// the rest of that stream's recording is dropped (logged, not retried).
// The hook flushes every writer (an error is logged), forgets them all,
// and flushes the Sink.
func NewBufioDropsRecording(env *properties.Env) (properties.Bot, error) {
	return newBufioBot(env, false)
}

// NewBufioFailsRecording is NewBufioDropsRecording whose Frame, once its
// writer failed, releases the lease and calls Fail: the team gives the
// recording up and tells Graph failed, rather than keep a recording with
// a hole.
func NewBufioFailsRecording(env *properties.Env) (properties.Bot, error) {
	return newBufioBot(env, true)
}

func newBufioBot(env *properties.Env, failOnError bool) (*bufioBot, error) {
	b := &bufioBot{failOnError: failOnError, writers: make([]*bufio.Writer, env.Streams)}
	base, err := newBase(env, b.hook, nil)
	if err != nil {
		return nil, err
	}
	b.base = base
	return b, nil
}

type bufioBot struct {
	*base
	failOnError bool
	mu          sync.Mutex // guards writers (the hook and the frames)
	writers     []*bufio.Writer
}

func (b *bufioBot) Frame(ctx context.Context, stream int, p []byte) error {
	var werr error
	err := b.underLease(stream, func() error {
		b.mu.Lock()
		w := b.writers[stream]
		if w == nil {
			w = bufio.NewWriterSize(countingWriter{b.sink.Stream(stream), &b.storageErrors}, bufioSize)
			b.writers[stream] = w
		}
		b.mu.Unlock()
		// Only this stream's Frame (one at a time) and the hook (once
		// every lease is released) touch w.
		_, werr = w.Write(p)
		return nil
	})
	if err != nil || werr == nil {
		return err
	}
	if b.failOnError {
		// The lease is released: Fail's drain does not wait for us.
		return errors.Join(werr, b.m.Fail(ctx))
	}
	return werr
}

func (b *bufioBot) hook(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	ws := b.writers
	b.writers = make([]*bufio.Writer, len(ws))
	b.mu.Unlock()
	for _, w := range ws {
		if w != nil {
			_ = w.Flush() // a failed stream's error is logged; the rest is lost
		}
	}
	return b.sink.Flush()
}

// NewPipeUploader builds a bot that streams each stream of a recording to
// storage the way an HTTP upload streams a request body: an io.Pipe per
// stream, made on its first frame, and a goroutine that io.Copy's the
// pipe into env.Sink.Stream(i). Frame writes the frame into the pipe
// under its lease (the write returns once the uploader has read it, not
// once storage has it). The hook closes every pipe and waits for every
// uploader to finish before it flushes the Sink, so every byte lands
// before the report. When storage fails, the uploader closes its pipe with
// the error and that stream's recording ends (later frames are dropped).
func NewPipeUploader(env *properties.Env) (properties.Bot, error) {
	b := &pipeBot{pipes: make([]*upload, env.Streams)}
	base, err := newBase(env, b.hook, nil)
	if err != nil {
		return nil, err
	}
	b.base = base
	return b, nil
}

type upload struct {
	w    *io.PipeWriter
	done chan struct{}
}

type pipeBot struct {
	*base
	mu    sync.Mutex
	pipes []*upload
}

func (b *pipeBot) Frame(_ context.Context, stream int, p []byte) error {
	return b.underLease(stream, func() error {
		b.mu.Lock()
		u := b.pipes[stream]
		if u == nil {
			r, w := io.Pipe()
			u = &upload{w: w, done: make(chan struct{})}
			b.pipes[stream] = u
			dst := countingWriter{b.sink.Stream(stream), &b.storageErrors}
			go func() {
				defer close(u.done)
				_, err := io.Copy(dst, r)
				r.CloseWithError(err) // the writer's next Write gets it
			}()
		}
		b.mu.Unlock()
		_, err := u.w.Write(p)
		return err
	})
}

func (b *pipeBot) hook(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	ps := b.pipes
	b.pipes = make([]*upload, len(ps))
	b.mu.Unlock()
	for _, u := range ps {
		if u != nil {
			_ = u.w.Close()
			<-u.done
		}
	}
	return b.sink.Flush()
}

// Close ends any upload still open, as the process's shutdown does, and
// waits for it.
func (b *pipeBot) Close(context.Context) error {
	b.mu.Lock()
	ps := b.pipes
	b.pipes = make([]*upload, len(ps))
	b.mu.Unlock()
	for _, u := range ps {
		if u != nil {
			_ = u.w.Close()
			<-u.done
		}
	}
	return nil
}

// NewGzipOverBufio builds a bot that compresses each stream of a
// recording: a gzip.Writer over a bufio.Writer (4 KiB) over
// env.Sink.Stream(i), made on the stream's first frame and written under
// its lease. The hook closes every gzip.Writer, flushes every bufio.Writer
// (so a recording's member usually reaches storage in one write), and
// flushes the Sink. A storage error is sticky in both writers: that
// stream's recording is lost, and logged.
func NewGzipOverBufio(env *properties.Env) (properties.Bot, error) {
	return newGzipBot(env, true)
}

// NewGzipOverSink is NewGzipOverBufio without the bufio.Writer: the
// gzip.Writer writes to env.Sink.Stream(i) directly, its 10-byte header
// in one Write and the deflate blocks and trailer in others, the way
// gzip.Writer always writes.
func NewGzipOverSink(env *properties.Env) (properties.Bot, error) {
	return newGzipBot(env, false)
}

func newGzipBot(env *properties.Env, buffered bool) (*gzipBot, error) {
	b := &gzipBot{buffered: buffered, files: make([]*gzipFile, env.Streams)}
	base, err := newBase(env, b.hook, nil)
	if err != nil {
		return nil, err
	}
	b.base = base
	return b, nil
}

type gzipFile struct {
	z  *gzip.Writer
	bw *bufio.Writer // nil without buffering
}

type gzipBot struct {
	*base
	buffered bool
	mu       sync.Mutex
	files    []*gzipFile
}

func (b *gzipBot) Frame(_ context.Context, stream int, p []byte) error {
	return b.underLease(stream, func() error {
		b.mu.Lock()
		f := b.files[stream]
		if f == nil {
			f = &gzipFile{}
			var dst io.Writer = countingWriter{b.sink.Stream(stream), &b.storageErrors}
			if b.buffered {
				f.bw = bufio.NewWriterSize(dst, 4096)
				dst = f.bw
			}
			f.z = gzip.NewWriter(dst)
			b.files[stream] = f
		}
		b.mu.Unlock()
		_, err := f.z.Write(p)
		return err
	})
}

func (b *gzipBot) hook(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	fs := b.files
	b.files = make([]*gzipFile, len(fs))
	b.mu.Unlock()
	for _, f := range fs {
		if f == nil {
			continue
		}
		_ = f.z.Close()
		if f.bw != nil {
			_ = f.bw.Flush()
		}
	}
	return b.sink.Flush()
}
