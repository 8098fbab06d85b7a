package properties

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every input, however short, plays a whole case: rapid skips an input it
// runs out of, and the fuzzer's inputs are tens of bytes.
func TestFuzzPlaysAWholeCaseForEveryInput(t *testing.T) {
	var built atomic.Int64
	fz := Fuzz(func(env *Env) (Bot, error) {
		if !env.neighbour {
			built.Add(1) // the call under test's bot: one per case
		}
		return ReferenceBot(env)
	})
	inputs := [][]byte{nil, {1}, {1, 2, 3}, []byte("a fuzzer's short input, 40 bytes long..")}
	for i, in := range inputs {
		var skipped bool
		t.Run(string(rune('a'+i)), func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			fz(t, in)
		})
		if skipped {
			t.Errorf("input %d (%d bytes) was skipped: rapid ran out of bytes before the case was drawn", i, len(in))
		}
	}
	// One call before the first input (the factory tried once, outside any
	// case), then one per input.
	if n := built.Load(); n != int64(len(inputs))+1 {
		t.Fatalf("the factory was called %d times for %d inputs: want one case played per input, after one try of the factory", n, len(inputs))
	}
	a, b := expandFuzzInput([]byte{7}), expandFuzzInput([]byte{7})
	if string(a) != string(b) || a[0] != 7 {
		t.Fatal("an input's extension must be a function of the input, after the input itself")
	}
	if string(expandFuzzInput([]byte{8})[1:]) == string(a[1:]) {
		t.Fatal("two inputs got the same extension")
	}
}

// FuzzChildSilentBot is run by TestFuzzBotSeedsFailAVacuousBot in a child
// process (it must fail, and a failing fuzz target fails its binary).
func FuzzChildSilentBot(f *testing.F) {
	if os.Getenv("RECGATE_FUZZ_CHILD") != "silent" {
		f.Skip("run by TestFuzzBotSeedsFailAVacuousBot")
	}
	FuzzBot(f, func(env *Env) (Bot, error) {
		return silentBot{env, new(atomic.Bool), new(sync.Mutex), new(atomic.Int64)}, nil
	})
}

// FuzzChildReferenceBot is the passing control.
func FuzzChildReferenceBot(f *testing.F) {
	if os.Getenv("RECGATE_FUZZ_CHILD") != "reference" {
		f.Skip("run by TestFuzzBotSeedsFailAVacuousBot")
	}
	FuzzBot(f, ReferenceBot)
}

// Under plain go test (CI), FuzzBot plays its seeds and fails a bot that
// never records, as Check does; a recording bot passes with its coverage
// logged.
func TestFuzzBotSeedsFailAVacuousBot(t *testing.T) {
	if os.Getenv("RECGATE_FUZZ_CHILD") != "" {
		t.Skip("in the child")
	}
	run := func(which, target string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^"+target+"$", "-test.v", "-rapid.nofailfile")
		cmd.Env = append(os.Environ(), "RECGATE_FUZZ_CHILD="+which)
		out, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("watchdog: the child running %s did not finish within 90 s:\n%s", target, out)
		}
		return string(out), err
	}
	out, err := run("silent", "FuzzChildSilentBot")
	if err == nil || !strings.Contains(out, "vacuous run") {
		t.Fatalf("FuzzBot passed a bot that never records (err %v):\n%s", err, out)
	}
	out, err = run("reference", "FuzzChildReferenceBot")
	if err != nil {
		t.Fatalf("FuzzBot failed the reference bot: %v\n%s", err, out)
	}
	if !strings.Contains(out, "24 cases") {
		t.Fatalf("FuzzBot's seeds did not play 24 cases:\n%s", out)
	}
}
