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
// replays. The factory runs on the caller's goroutine, as in a case, so a
// factory that calls t.Fatal (a test database that cannot be opened) fails
// the test with its own message. The bot is closed if it is a Closer, and
// otherwise dropped: it saw no event.
func preflight(newBot Factory, o options) error {
	var (
		bot      Bot
		err      error
		panicked any
	)
	func() {
		defer func() { panicked = recover() }()
		bot, err = newBot(newEnv(newCallPair().test, 1))
	}()
	switch {
	case panicked != nil:
		return fmt.Errorf("properties: the bot factory panicked before any case ran (fix the wiring; nothing was drawn): %v", panicked)
	case err != nil:
		return fmt.Errorf("properties: the bot factory failed before any case ran (fix the wiring; nothing was drawn): %w", err)
	case bot == nil:
		return errors.New("properties: the bot factory returned a nil Bot and no error, before any case ran: return your Bot, or an error that says why it cannot be built")
	}
	c, ok := bot.(Closer)
	if !ok {
		return nil
	}
	// Close gets the suite's watchdog, as in a case: a Close that ignores
	// its context is named, not waited for.
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	type outcome struct {
		returned bool
		panicked any
	}
	closed := make(chan outcome, 1)
	go func() {
		var out outcome
		defer func() {
			out.panicked = recover()
			closed <- out
		}()
		_ = c.Close(ctx) // a bot that saw nothing has nothing to finish
		out.returned = true
	}()
	select {
	case out := <-closed:
		switch {
		case out.panicked != nil:
			return fmt.Errorf("properties: the bot's Close panicked on a bot that saw no event, before any case ran (fix the wiring; nothing was drawn): %v", out.panicked)
		case !out.returned:
			return errors.New("properties: the bot's Close called runtime.Goexit (t.Fatal, t.Skip or require on a goroutine that is not the test's), before any case ran: return an error instead")
		}
	case <-time.After(o.timeout + o.timeout/4):
		return fmt.Errorf("properties: the bot's Close had not returned %s after it was called on a bot that saw no event, before any case ran (its context's deadline had passed): it hangs", o.timeout+o.timeout/4)
	}
	return nil
}
