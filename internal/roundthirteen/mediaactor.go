package roundthirteen

import (
	"context"
	"errors"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// The second team keeps the README's machine in the handlers and gives
// the media path to an actor: the frame handler asks the gate (a lease)
// whether the frame may be kept, posts it to the call's media actor and
// returns; the actor, the only owner of the recording's storage, writes
// what it is given. The recording-ended hook tells the actor that the
// recording ended (flush and close). What the bots vary is how that
// message travels and whether the hook waits for the actor's answer.

// mediaMode is how frames and the end of the recording reach the actor.
type mediaMode int

const (
	// mediaInOrder: one FIFO mailbox; the hook posts "ended" behind the
	// frames and waits for the actor's answer.
	mediaInOrder mediaMode = iota
	// mediaAckBeforeDrain: one FIFO mailbox; the hook posts "ended" and
	// returns ("the actor handles it in order").
	mediaAckBeforeDrain
	// mediaTwoLanes: frames and control on two channels, one select; the
	// hook waits for the actor's answer to "ended".
	mediaTwoLanes
	// mediaGoSend: each frame is posted from a goroutine of its own ("an
	// unbounded mailbox: never block the socket, never drop"); the hook
	// waits for the answer to "ended", posted in order.
	mediaGoSend
)

type mediaEvent struct {
	stream  int
	payload []byte
	ended   chan error // non-nil: answer once everything before it is written
	flush   bool       // with ended: the recording ended; flush first
}

// mediaActorBot is the machine in the handlers, the media in an actor.
type mediaActorBot struct {
	*fsmBot
	mode    mediaMode
	mailbox chan mediaEvent // frames (and, but for mediaTwoLanes, control)
	control chan mediaEvent // mediaTwoLanes' control lane
	quit    chan struct{}
	exited  chan struct{}
	once    sync.Once
	sends   sync.WaitGroup // mediaGoSend's posting goroutines
}

func newMediaActorBot(env *properties.Env, mode mediaMode) (*mediaActorBot, error) {
	b := &mediaActorBot{mode: mode, mailbox: make(chan mediaEvent, mailboxDepth),
		control: make(chan mediaEvent), quit: make(chan struct{}), exited: make(chan struct{})}
	base, err := newFSMBot(env, wiring{hook: b.recordingEnded})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	go b.loop()
	return b, nil
}

// NewMediaActorInOrder is the media actor done right: one FIFO mailbox,
// and the hook waits until the actor has written everything posted
// before "ended" and flushed.
func NewMediaActorInOrder(env *properties.Env) (properties.Bot, error) {
	return newMediaActorBot(env, mediaInOrder)
}

// NewMediaActorAckBeforeDrain posts "ended" and returns from the hook:
// the machine reports notRecording while the actor still holds frames.
func NewMediaActorAckBeforeDrain(env *properties.Env) (properties.Bot, error) {
	return newMediaActorBot(env, mediaAckBeforeDrain)
}

// NewMediaActorTwoLanes gives control a lane of its own ("so a Stop is
// never stuck behind a second of audio"): Go's select picks among ready
// channels at random, so "ended" is often answered before frames posted
// earlier, which the actor then writes after notRecording.
func NewMediaActorTwoLanes(env *properties.Env) (properties.Bot, error) {
	return newMediaActorBot(env, mediaTwoLanes)
}

// NewMediaActorGoSend posts each frame from a goroutine of its own: the
// mailbox never fills and no frame is dropped, but a frame's goroutine
// may post it after "ended", and the actor writes it after notRecording.
func NewMediaActorGoSend(env *properties.Env) (properties.Bot, error) {
	return newMediaActorBot(env, mediaGoSend)
}

func (b *mediaActorBot) loop() {
	defer close(b.exited)
	for {
		select {
		case <-b.quit:
			return
		case ev := <-b.control:
			b.handle(ev)
		case ev := <-b.mailbox:
			b.handle(ev)
		}
	}
}

func (b *mediaActorBot) handle(ev mediaEvent) {
	if ev.ended != nil {
		var err error
		if ev.flush {
			err = b.sink.Flush()
		}
		ev.ended <- err
		return
	}
	if _, err := b.sink.Write(ev.stream, ev.payload); errors.Is(err, properties.ErrStorageFault) {
		_, _ = b.sink.Write(ev.stream, ev.payload)
	}
}

// recordingEnded is the machine's hook: tell the actor.
func (b *mediaActorBot) recordingEnded(ctx context.Context, _ fsm.Trigger) error {
	ev := mediaEvent{ended: make(chan error, 1), flush: true}
	lane := b.mailbox
	if b.mode == mediaTwoLanes {
		lane = b.control
	}
	select {
	case lane <- ev:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.exited:
		return errActorGone
	}
	if b.mode == mediaAckBeforeDrain {
		return nil
	}
	select {
	case err := <-ev.ended:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Frame asks the gate and posts the frame to the actor.
func (b *mediaActorBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	ev := mediaEvent{stream: stream, payload: append([]byte(nil), payload...)}
	if b.mode == mediaGoSend {
		b.sends.Add(1)
		go func() {
			defer b.sends.Done()
			select {
			case b.mailbox <- ev:
			case <-b.exited:
			}
		}()
		return nil
	}
	select {
	case b.mailbox <- ev:
		return nil
	default:
		return errMailboxFull
	}
}

// Close waits for the posting goroutines and the mailbox, then stops the
// actor.
func (b *mediaActorBot) Close(ctx context.Context) error {
	b.sends.Wait()
	done := make(chan error, 1)
	select {
	case b.mailbox <- mediaEvent{ended: done}:
		select {
		case <-done:
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	b.once.Do(func() { close(b.quit) })
	<-b.exited
	return nil
}
