package roundthirteen

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// The third team uploads media in chunks, as a blob store wants it: the
// frame handler appends each frame (under a lease) to its stream's chunk
// in memory, and every chunkFrames frames the chunk goes to storage in
// one write. Where the write happens (inline, by an uploader goroutine,
// on a ticker) and what the recording-ended hook does with the chunks
// still filling is what the bots vary. The shutdown bots (shutdown.go)
// use the inline chunks too.

// chunkFrames is how many frames make a chunk.
const chunkFrames = 4

// uploadMode is when chunks reach storage.
type uploadMode int

const (
	// uploadInline: a full chunk is written by the frame handler, under
	// its lease; the hook writes the partial chunks.
	uploadInline uploadMode = iota
	// uploadQueued: full chunks go to an uploader goroutine; the hook
	// hands it the partial chunks and waits until it has written
	// everything handed to it.
	uploadQueued
	// uploadTicker: an uploader goroutine writes what is pending every
	// tick; the hook moves the partial chunks to pending, flushes and
	// returns ("the ticker uploads them within milliseconds").
	uploadTicker
	// uploadFullOnly: as uploadQueued, but the hook hands over full chunks
	// only ("a chunk is four frames; the tail rides with the next one").
	uploadFullOnly
)

// chunk is one upload: the stream it belongs to and its bytes; done, if
// set, is a barrier the uploader answers.
type chunk struct {
	stream int
	data   []byte
	done   chan struct{}
}

// chunkBot is the README's machine with chunked storage.
type chunkBot struct {
	*fsmBot
	mode uploadMode

	mu      sync.Mutex     // guards fill, frames and pending
	fill    []bytes.Buffer // each stream's chunk being filled
	frames  []int          // frames in each fill
	pending []chunk        // uploadTicker's chunks waiting for the tick

	uploads chan chunk // uploadQueued and uploadFullOnly
	quit    chan struct{}
	exited  chan struct{}
	once    sync.Once
}

func newChunkBot(env *properties.Env, mode uploadMode) (*chunkBot, error) {
	b := &chunkBot{mode: mode, fill: make([]bytes.Buffer, env.Streams), frames: make([]int, env.Streams),
		uploads: make(chan chunk, 64), quit: make(chan struct{}), exited: make(chan struct{})}
	base, err := newFSMBot(env, wiring{hook: b.recordingEnded})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	switch mode {
	case uploadQueued, uploadFullOnly:
		go b.uploader()
	case uploadTicker:
		go b.ticker()
	default:
		close(b.exited)
	}
	return b, nil
}

// NewChunkUploader is the uploader done right: the hook hands the
// partial chunks to the uploader behind the full ones and waits for all
// of them before it flushes.
func NewChunkUploader(env *properties.Env) (properties.Bot, error) {
	return newChunkBot(env, uploadQueued)
}

// NewChunkTickerAfterReport uploads on a ticker; the hook seals the
// partial chunks and returns, and they reach storage after notRecording.
func NewChunkTickerAfterReport(env *properties.Env) (properties.Bot, error) {
	return newChunkBot(env, uploadTicker)
}

// NewChunkMixesRecordings keeps a stream's partial chunk across the end
// of the recording: the next recording's first chunk carries the last
// one's tail.
func NewChunkMixesRecordings(env *properties.Env) (properties.Bot, error) {
	return newChunkBot(env, uploadFullOnly)
}

// upload writes one chunk, with one retry of a storage fault.
func (b *chunkBot) upload(c chunk) {
	if _, err := b.sink.Write(c.stream, c.data); errors.Is(err, properties.ErrStorageFault) {
		_, _ = b.sink.Write(c.stream, c.data)
	}
}

func (b *chunkBot) uploader() {
	defer close(b.exited)
	for {
		select {
		case <-b.quit:
			return
		case c := <-b.uploads:
			if c.done != nil {
				close(c.done)
				continue
			}
			b.upload(c)
		}
	}
}

// uploadTick is the ticker's period.
const uploadTick = 2 * time.Millisecond

func (b *chunkBot) ticker() {
	defer close(b.exited)
	t := time.NewTicker(uploadTick)
	defer t.Stop()
	for {
		select {
		case <-b.quit:
			b.uploadPending()
			return
		case <-t.C:
			b.uploadPending()
		}
	}
}

func (b *chunkBot) uploadPending() {
	b.mu.Lock()
	p := b.pending
	b.pending = nil
	b.mu.Unlock()
	for _, c := range p {
		b.upload(c)
	}
}

// take returns stream i's chunk and starts a new one; b.mu is held.
func (b *chunkBot) take(i int) chunk {
	c := chunk{stream: i, data: bytes.Clone(b.fill[i].Bytes())}
	b.fill[i].Reset()
	b.frames[i] = 0
	return c
}

// Frame appends the frame to its stream's chunk under a lease, and
// hands over the chunk once it is full.
func (b *chunkBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	b.fill[stream].Write(payload)
	b.fill[stream].WriteByte('\n')
	b.frames[stream]++
	if b.frames[stream] < chunkFrames {
		b.mu.Unlock()
		return nil
	}
	c := b.take(stream)
	switch b.mode {
	case uploadTicker:
		b.pending = append(b.pending, c)
		b.mu.Unlock()
	case uploadQueued, uploadFullOnly:
		b.mu.Unlock()
		b.uploads <- c
	default:
		b.mu.Unlock()
		b.upload(c)
	}
	return nil
}

// partials takes every stream's partial chunk.
func (b *chunkBot) partials() []chunk {
	b.mu.Lock()
	defer b.mu.Unlock()
	var cs []chunk
	for i := range b.fill {
		if b.frames[i] > 0 {
			cs = append(cs, b.take(i))
		}
	}
	return cs
}

// recordingEnded is the machine's hook.
func (b *chunkBot) recordingEnded(ctx context.Context, _ fsm.Trigger) error {
	switch b.mode {
	case uploadTicker:
		cs := b.partials()
		b.mu.Lock()
		b.pending = append(b.pending, cs...)
		b.mu.Unlock()
	case uploadQueued, uploadFullOnly:
		if b.mode == uploadQueued {
			for _, c := range b.partials() {
				b.uploads <- c
			}
		}
		done := make(chan struct{})
		b.uploads <- chunk{done: done}
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	default:
		for _, c := range b.partials() {
			b.upload(c)
		}
	}
	return b.sink.Flush()
}

// Close uploads what is pending and stops the uploader.
func (b *chunkBot) Close(context.Context) error {
	if b.mode == uploadInline {
		return nil
	}
	if b.mode != uploadTicker {
		done := make(chan struct{})
		b.uploads <- chunk{done: done}
		<-done
	}
	b.once.Do(func() { close(b.quit) })
	<-b.exited
	return nil
}
