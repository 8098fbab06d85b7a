package roundthirteen

import (
	"context"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// The eighth team records per participant: each media stream is one
// participant's audio, and a participant's track in the recording
// begins once the participant is "in" the recording: at the
// participant's consentFrames-th frame inside it (the tenant's policy
// plays a notice and gives each person a moment to leave). Until then
// the participant's frames are held in a buffer of their own, written
// at the head of the track when it begins. What the bots vary is which
// frames that buffer holds.

// consentFrames is the frame at which a participant's track begins.
const consentFrames = 3

// participantBot is the README's machine with per-participant tracks.
type participantBot struct {
	*fsmBot
	// fromJoin: a participant's buffer holds everything since they
	// joined ("their track starts when they joined"), also frames that
	// came before the recording was confirmed; otherwise only frames
	// held under the lease, in this recording.
	fromJoin bool

	mu      []sync.Mutex // one per stream
	held    [][][]byte   // frames held for the participant's track
	inTrack []int        // frames of this recording seen under a lease; ≥ consentFrames: track begun
}

func newParticipantBot(env *properties.Env, fromJoin bool) (*participantBot, error) {
	b := &participantBot{fromJoin: fromJoin, mu: make([]sync.Mutex, env.Streams),
		held: make([][][]byte, env.Streams), inTrack: make([]int, env.Streams)}
	base, err := newFSMBot(env, wiring{hook: func(context.Context, fsm.Trigger) error {
		b.endTracks()
		return env.Sink.Flush()
	}})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

// NewParticipantHeldInRecording holds a participant's first frames of
// the recording (under their leases) and writes them when the track
// begins; the hook drops what a participant who never got that far left.
func NewParticipantHeldInRecording(env *properties.Env) (properties.Bot, error) {
	return newParticipantBot(env, false)
}

// NewParticipantFromJoin holds every frame since the participant joined,
// also before the recording was confirmed, and writes it at the head of
// the track: pre-consent media reaches storage.
func NewParticipantFromJoin(env *properties.Env) (properties.Bot, error) {
	return newParticipantBot(env, true)
}

// endTracks ends every track: held frames are dropped, unless fromJoin
// keeps the buffer ("they are still in the call").
func (b *participantBot) endTracks() {
	for i := range b.held {
		b.mu[i].Lock()
		b.inTrack[i] = 0
		if !b.fromJoin {
			b.held[i] = nil
		}
		b.mu[i].Unlock()
	}
}

// hold keeps p in stream's buffer (bounded: the oldest goes first).
func (b *participantBot) hold(stream int, p []byte) {
	b.held[stream] = append(b.held[stream], append([]byte(nil), p...))
	if len(b.held[stream]) > 2*consentFrames {
		b.held[stream] = b.held[stream][1:]
	}
}

// Frame holds the frame until the participant's track begins, then
// writes the held frames and the frame, under the frame's lease.
func (b *participantBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	b.mu[stream].Lock()
	defer b.mu[stream].Unlock()
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		if b.fromJoin {
			b.hold(stream, payload) // the participant is in the call
		}
		return err
	}
	defer lease.Release()
	b.inTrack[stream]++
	if b.inTrack[stream] < consentFrames {
		b.hold(stream, payload)
		return nil
	}
	for _, p := range b.held[stream] {
		if _, err := b.sink.Write(stream, p); err != nil {
			return err
		}
	}
	b.held[stream] = nil
	_, err = b.sink.Write(stream, payload)
	return err
}
