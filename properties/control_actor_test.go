package properties

import "testing"

// TestWaitsOnBot: a control call parked on a channel, a select or a
// WaitGroup in the bot's own code waits for the bot (a control actor's
// mailbox), one parked in fsm or the suite, or asleep, does not.
func TestWaitsOnBot(t *testing.T) {
	const actor = "goroutine 7 [select]:\n" +
		"runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)\n\t/go/src/runtime/proc.go:435 +0xce\n" +
		"runtime.selectgo(0x0?, 0x0?, 0x0?, 0x0?, 0x0?, 0x0?)\n\t/go/src/runtime/select.go:351 +0x837\n" +
		"example.com/bot.(*actor).do(0xc000010000, {0x0, 0x0}, 0xc000020000)\n\t/bot/actor.go:80 +0x1c5\n" +
		"github.com/recgate/recgate/properties.(*runner).call.func2()\n\t/recgate/properties/play.go:180 +0x5a"
	cases := []struct {
		name, stack string
		want        bool
	}{
		{"a control actor's mailbox", actor, true},
		{"a WaitGroup of the bot's", "goroutine 9 [sync.WaitGroup.Wait]:\nruntime.gopark(...)\n\t/p.go:1\nsync.runtime_SemacquireWaitGroup(...)\n\t/s.go:1\nsync.(*WaitGroup).Wait(...)\n\t/w.go:1\nexample.com/bot.(*bot).CallEnded(...)\n\t/bot.go:1", true},
		{"fsm's lock", "goroutine 9 [chan receive]:\nruntime.gopark(...)\n\t/p.go:1\ngithub.com/recgate/recgate/fsm.(*Machine).lock(...)\n\t/fsm/lock.go:1\nexample.com/bot.(*bot).CallEnded(...)\n\t/bot.go:1", false},
		{"the suite's own wait", "goroutine 9 [select]:\nruntime.gopark(...)\n\t/p.go:1\ngithub.com/recgate/recgate/properties.(*runner).slowStorage(...)\n\t/play.go:1", false},
		{"asleep", "goroutine 9 [sleep]:\ntime.Sleep(...)\n\t/t.go:1\nexample.com/bot.(*bot).Stop(...)\n\t/bot.go:1", false},
		{"running", "goroutine 9 [running]:\nexample.com/bot.(*bot).Stop(...)\n\t/bot.go:1", false},
	}
	for _, c := range cases {
		if got := waitsOnBot([]byte(c.stack)); got != c.want {
			t.Errorf("%s: waitsOnBot = %v, want %v", c.name, got, c.want)
		}
	}
}
