package roundfive

import (
	"context"
	"io"
	"os"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// noSync hides the trail file's Sync: the bot's behaviour is the same,
// and a hundred cases of fsync would make this package's tests slow.
type noSync struct{ w io.Writer }

func (n noSync) Write(p []byte) (int, error) { return n.w.Write(p) }

// NewRecoverOnEveryStart builds the bot that runs crash recovery in Start.
//
// The mistake: README says "at start-up, before any Start, call
// j.Recover". The team's bot serves one call per process and "start-up"
// became the Start handler: every Start first recovers the journal, so
// that a recording never begins on top of an interrupted one. But the
// journal holds the live call's own trail too: a Start that comes while
// that call is recording (a media reconnect, a second "record" click)
// recovers the live call. Recovery closes the gate in the trail, runs the
// hook and reports failed to Graph, while the live machine's gate stays
// open and its frames go on being persisted.
func NewRecoverOnEveryStart(env *properties.Env) (properties.Bot, error) {
	return newRecoverOnEveryStart(callOf(env))
}

func newRecoverOnEveryStart(c call) (*recoverOnStart, error) {
	dir, err := os.MkdirTemp("", "roundfive-journal-")
	if err != nil {
		return nil, err
	}
	j, err := fsm.OpenJournal(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	f, err := j.Create(c.id)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	b, err := newFSMBot(c, nil, fsm.WithAuditTrail(noSync{f}))
	if err != nil {
		_ = f.Close()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return &recoverOnStart{fsmBot: b, j: j, f: f}, nil
}

type recoverOnStart struct {
	*fsmBot
	j    *fsm.Journal
	f    *os.File
	once sync.Once
}

func (b *recoverOnStart) Start(ctx context.Context) error {
	// "Put right whatever a crash left before we record again."
	_, _ = b.j.Recover(ctx, b.c.updater, func(context.Context, fsm.InterruptedCall) error {
		return b.c.sink.Flush() // seal the files
	})
	return b.fsmBot.Start(ctx)
}

// Close removes the journal (the suite calls it at the end of a case).
func (b *recoverOnStart) Close(context.Context) error {
	b.once.Do(func() {
		_ = b.f.Close()
		_ = os.RemoveAll(b.j.Dir())
	})
	return nil
}
