package roundnine

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/recgate/recgate/internal/botrounds"
	"github.com/recgate/recgate/properties"
)

// FuzzLogAndDrop is the suite as a fuzz target on a correct bot, wired as
// a user would: under plain go test its 24 seeds play 24 cases (with the
// storage faults the suite draws) and must pass, not vacuously; under
// go test -fuzz=FuzzLogAndDrop it explores further.
func FuzzLogAndDrop(f *testing.F) { properties.FuzzBot(f, NewLogAndDrop) }

// buggyFuzzEnv, when set, lets FuzzRetryQueueNotDrained run. It is a
// buggy bot: the target must fail, so the default test run skips it and
// TestBuggyFuzzTargetFails runs it in a child process instead.
const buggyFuzzEnv = "ROUNDNINE_FUZZ_BUGGY"

// FuzzRetryQueueNotDrained is the suite as a fuzz target on a buggy bot
// (RetryQueueNotDrained: a failed write retried from a goroutine that
// the hook does not wait for). It skips unless ROUNDNINE_FUZZ_BUGGY is
// set, as it fails when it runs:
//
//	ROUNDNINE_FUZZ_BUGGY=1 go test -run '^$' -fuzz FuzzRetryQueueNotDrained -fuzzminimizetime 1s ./internal/roundnine
func FuzzRetryQueueNotDrained(f *testing.F) {
	if os.Getenv(buggyFuzzEnv) == "" {
		f.Skip("a buggy bot: this target fails when it runs; TestBuggyFuzzTargetFails runs it in a child process (set " + buggyFuzzEnv + "=1 to run it here)")
	}
	properties.FuzzBot(f, NewRetryQueueNotDrained)
}

// FuzzRetryQueueNotDrainedUnseeded is FuzzRetryQueueNotDrained with one
// seed that does not catch the bug (properties.Fuzz, not FuzzBot): how
// fast the fuzzer itself finds it, measured by hand (see doc.go). It
// skips unless ROUNDNINE_FUZZ_BUGGY is set.
func FuzzRetryQueueNotDrainedUnseeded(f *testing.F) {
	if os.Getenv(buggyFuzzEnv) == "" {
		f.Skip("a buggy bot, for measuring the fuzzer by hand: set " + buggyFuzzEnv + "=1 to run it")
	}
	f.Add([]byte{0})
	f.Fuzz(properties.Fuzz(NewRetryQueueNotDrained))
}

// TestBuggyFuzzTargetFails runs FuzzRetryQueueNotDrained's seeds under
// plain go test, in a child process of this test binary, and asserts that
// the target fails, naming one of the invariants the bug breaks: the 24
// seeds FuzzBot adds are enough to catch it without the fuzzer.
func TestBuggyFuzzTargetFails(t *testing.T) {
	if os.Getenv(buggyFuzzEnv) != "" {
		t.Skip("this is the child process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("cannot find this test binary to run it again: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), botrounds.SuiteWatchdog)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^FuzzRetryQueueNotDrained$", "-test.count=1")
	cmd.Env = append(os.Environ(), buggyFuzzEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	began := time.Now()
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("the child running FuzzRetryQueueNotDrained did not finish within %v:\n%.4000s", botrounds.SuiteWatchdog, out.String())
	}
	if err == nil {
		t.Fatalf("FuzzRetryQueueNotDrained passed its 24 seeds; the bot retries after the lease was released and should fail:\n%.4000s", out.String())
	}
	if !botrounds.NamesOneOf(out.String(), []string{"P1", "P2", "P7"}) {
		t.Fatalf("FuzzRetryQueueNotDrained failed without naming P1, P2 or P7 (%v):\n%.6000s", err, out.String())
	}
	t.Logf("the buggy fuzz target failed under plain go test in %v, as it must", time.Since(began).Round(time.Millisecond))
}
