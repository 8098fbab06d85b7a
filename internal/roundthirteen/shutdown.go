package roundthirteen

import (
	"context"

	"github.com/google/uuid"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// The fourth team's process shuts down gracefully (SIGTERM on a deploy):
// the bot's Close runs over every call it holds. Media is in inline
// chunks (chunks.go): up to three frames per stream sit in memory until
// the chunk fills or the recording ends. The suite calls Close at the
// end of each case, as a process stop would come, while the call may
// still be recording.

// shutdownBot is the chunked bot with a shutdown path.
type shutdownBot struct {
	*chunkBot
	// reportFirst: shutdown tells Graph notRecording for the call first
	// ("the indicator must go off before we lose the process"), then
	// writes the chunks still in memory, then ends the machine.
	reportFirst bool
}

func newShutdownBot(env *properties.Env, reportFirst bool) (*shutdownBot, error) {
	c, err := newChunkBot(env, uploadInline)
	if err != nil {
		return nil, err
	}
	return &shutdownBot{chunkBot: c, reportFirst: reportFirst}, nil
}

// NewShutdownStopsFirst shuts down in the machine's order: Stop (close
// the gate, drain, the hook writes the chunks and flushes, then
// notRecording) and only then the process may go.
func NewShutdownStopsFirst(env *properties.Env) (properties.Bot, error) {
	return newShutdownBot(env, false)
}

// NewShutdownReportsFirst reports notRecording for the call, then writes
// the chunks still in memory, then ends the machine: the last frames
// reach storage after Graph was told recording ended.
func NewShutdownReportsFirst(env *properties.Env) (properties.Bot, error) {
	return newShutdownBot(env, true)
}

// Close is the shutdown of the call.
func (b *shutdownBot) Close(ctx context.Context) error {
	if !b.m.Gate().IsOpen() {
		return nil // not recording: nothing to end
	}
	if !b.reportFirst {
		return b.m.Stop(ctx)
	}
	if _, err := b.env.Updater.UpdateRecordingStatus(ctx, b.env.CallID, graph.StatusNotRecording, uuid.NewString()); err != nil {
		return err
	}
	for _, c := range b.partials() {
		b.upload(c)
	}
	return b.m.CallEnded(ctx)
}
