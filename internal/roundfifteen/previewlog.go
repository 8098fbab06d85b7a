package roundfifteen

import (
	"context"
	"fmt"

	"github.com/recgate/recgate/properties"
)

// The fourth team keeps a receive log beside the recording, on a Sink
// stream of its own that it names as holding no media
// (properties.WithUntracedStreams): a line per frame received, recording
// or not, to debug the media socket ("did the frames come, how big, and is
// it really PCM: quote the first bytes"). Each line quotes the frame's
// first 16 bytes in hex, which is media, kept for every frame heard
// before consent (R1: data derived from the call's media); a line with
// the size alone would keep the rule. The
// suite reads hex, but a frame's canary is its last word: 16 bytes from
// its head never hold one, so the log is stored and never timed.

// logStream is the Sink stream of the receive log.
const logStream = 9

// untracedLog names the receive log's stream as holding no media.
var untracedLog = []properties.Option{properties.WithUntracedStreams(logStream)}

// previewBytes is how much of each frame a log line quotes.
const previewBytes = 16

type receiveLogBot struct {
	*fsmBot
}

// NewFramePreviewLog logs every frame received with its first 16 bytes.
func NewFramePreviewLog(env *properties.Env) (properties.Bot, error) {
	base, err := newFSMBot(env, wiring{})
	if err != nil {
		return nil, err
	}
	return &receiveLogBot{fsmBot: base}, nil
}

// Frame logs the frame, then persists it under a lease when recording.
func (b *receiveLogBot) Frame(ctx context.Context, stream int, payload []byte) error {
	line := fmt.Sprintf("frame stream=%d bytes=%d head=%x\n", stream, len(payload), payload[:min(previewBytes, len(payload))])
	if _, err := b.sink.Write(logStream, []byte(line)); err != nil {
		return err
	}
	return b.fsmBot.Frame(ctx, stream, payload)
}
