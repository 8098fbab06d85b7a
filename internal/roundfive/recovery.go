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
// Once a mistake, now refused by the library: README says "at start-up,
// before any Start, call j.Recover". The team's bot serves one call per
// process and "start-up" became the Start handler: every Start first
// recovers the journal, so that a recording never begins on top of an
// interrupted one. But the journal holds the live call's own trail too,
// and Recover used to recover it (close the gate in the trail, run the
// hook, report failed to Graph) while the live machine's gate stayed open.
// fsm now leaves the trails its own Journal created to their machines
// (RecoveryOwnTrail), so this wiring keeps the rule: a correct bot.
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
		_ = b.j.Close()
		_ = os.RemoveAll(b.j.Dir())
	})
	return nil
}
