package properties

import (
	"context"
	"errors"
	"fmt"
)

// preflight builds one bot before any case is drawn, so that a factory
// that cannot build a bot at all (an error, a nil Bot: a mistake in the
// wiring, not in a drawn case) is reported as such, at once, instead of as
// a failing case that rapid saves under testdata/rapid and replays. The
// bot is closed if it is a Closer, and otherwise dropped: it saw no event.
func preflight(newBot Factory, o options) error {
	env := newEnv(suiteCallID, 1)
	bot, err := newBot(env)
	if err != nil {
		return fmt.Errorf("properties: the bot factory failed before any case ran (fix the wiring; nothing was drawn): %w", err)
	}
	if bot == nil {
		return errors.New("properties: the bot factory returned a nil Bot and no error, before any case ran")
	}
	if c, ok := bot.(Closer); ok {
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		defer cancel()
		_ = c.Close(ctx) // a bot that saw nothing has nothing to finish
	}
	return nil
}
