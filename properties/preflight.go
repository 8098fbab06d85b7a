package properties

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// prepare refuses a nil factory (call is how the caller was called, for
// the message), builds the options and tries the factory once.
func prepare(call string, newBot Factory, opts []Option) (options, error) {
	if newBot == nil {
		return options{}, fmt.Errorf("properties: %s: pass the Factory that builds your bot around the suite's Env", call)
	}
	o, err := buildOptions(opts)
	if err != nil {
		return o, err
	}
	return o, preflight(newBot, o)
}

// preflight builds one bot before any case is drawn, so that a factory
// that cannot build a bot at all (an error, a nil Bot, a panic: a mistake
// in the wiring, not in a drawn case) is reported as such, at once,
// instead of as a failing case that rapid saves under testdata/rapid and
// replays. The bot is closed if it is a Closer, and otherwise dropped: it
// saw no event. The factory and Close run under the suite's timeout, so a
// factory that hangs is named, not waited for.
func preflight(newBot Factory, o options) error {
	type built struct {
		bot      Bot
		err      error
		panicked any
	}
	done := make(chan built, 1)
	go func() {
		var b built
		defer func() {
			b.panicked = recover()
			done <- b
		}()
		b.bot, b.err = newBot(newEnv(suiteCallID, 1))
	}()
	var b built
	select {
	case b = <-done:
	case <-time.After(o.timeout):
		return fmt.Errorf("properties: the bot factory had not returned %s after it was called, before any case ran: it hangs (fix the wiring; nothing was drawn)", o.timeout)
	}
	switch {
	case b.panicked != nil:
		return fmt.Errorf("properties: the bot factory panicked before any case ran (fix the wiring; nothing was drawn): %v", b.panicked)
	case b.err != nil:
		return fmt.Errorf("properties: the bot factory failed before any case ran (fix the wiring; nothing was drawn): %w", b.err)
	case b.bot == nil:
		return errors.New("properties: the bot factory returned a nil Bot and no error, before any case ran: return your Bot, or an error that says why it cannot be built")
	}
	c, ok := b.bot.(Closer)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	closed := make(chan any, 1)
	go func() {
		defer func() { closed <- recover() }()
		_ = c.Close(ctx) // a bot that saw nothing has nothing to finish
	}()
	select {
	case p := <-closed:
		if p != nil {
			return fmt.Errorf("properties: the bot's Close panicked on a bot that saw no event, before any case ran (fix the wiring; nothing was drawn): %v", p)
		}
	case <-time.After(o.timeout + o.timeout/4):
		return fmt.Errorf("properties: the bot's Close had not returned %s after it was called on a bot that saw no event, before any case ran (its context's deadline had passed): it hangs", o.timeout+o.timeout/4)
	}
	return nil
}
