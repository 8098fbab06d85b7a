package properties

import (
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

// fuzzInputWords is how many of rapid's 64-bit draws every fuzz input is
// made to hold. rapid takes 8 bytes of the input per draw and skips an
// input that runs out; a case takes a few hundred draws, so almost every
// input the fuzzer makes up (tens of bytes) would be skipped unplayed.
const fuzzInputWords = 4096

// expandFuzzInput returns input followed by bytes drawn from a generator
// seeded with input's hash, fuzzInputWords*8 bytes in all: the fuzzer's
// bytes steer the first draws (coverage guidance works on them), the
// rest of the case is a function of the whole input, and every input
// plays a whole case.
func expandFuzzInput(input []byte) []byte {
	n := fuzzInputWords * 8
	if len(input) >= n {
		return input
	}
	out := make([]byte, n)
	copy(out, input)
	rng := rand.NewChaCha8(sha256.Sum256(input))
	_, _ = rng.Read(out[len(input):])
	return out
}

// Fuzz is Check for go test -fuzz:
//
//	func FuzzMyBot(f *testing.F) { f.Fuzz(properties.Fuzz(newMyBot)) }
//
// Every input plays a whole case: an input shorter than a case needs is
// extended with bytes derived from it. Plain go test runs only the seed
// corpus, none without f.Add: FuzzBot adds seeds and checks that they
// were not vacuous.
//
// A write a bot makes after its case ended is reported when the next case
// starts, so the input the fuzzer saves for it is not the one at fault;
// the report shows the case that is.
func Fuzz(newBot Factory, opts ...Option) func(*testing.T, []byte) {
	return fuzzFunc(newBot, nil, opts, false)
}

// fuzzSeeds is how many seeds FuzzBot adds: under plain go test, the
// cases a run plays.
const fuzzSeeds = 24

// FuzzBot is the suite as a fuzz test, seeded:
//
//	func FuzzMyBot(f *testing.F) { properties.FuzzBot(f, newMyBot) }
//
// It adds 24 seed inputs and runs Fuzz. Under plain go test (CI), the
// seeds play 24 cases and the run fails as vacuous, as Check's does, if
// none reached a confirmed recording or persisted a frame. Under go test
// -fuzz, the fuzzer starts from them (pass -fuzzminimizetime=1s); a fuzzing
// run checks no vacuity, since its cases run in worker processes.
func FuzzBot(f *testing.F, newBot Factory, opts ...Option) {
	f.Helper()
	o, err := prepare("FuzzBot(f, nil)", newBot, opts)
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < fuzzSeeds; i++ {
		f.Add([]byte{byte(i)})
	}
	var cov Coverage
	if !fuzzing() {
		f.Cleanup(func() {
			if f.Failed() || f.Skipped() {
				return
			}
			f.Logf("properties: %s", cov.String())
			if err := cov.vacuous(o.untraced); err != nil {
				f.Error(err)
			}
		})
	}
	f.Fuzz(fuzzFunc(newBot, &cov, opts, true))
}

// fuzzing reports whether this test binary fuzzes (the coordinator or a
// worker) rather than running the seed corpus.
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if fl := flag.Lookup(name); fl != nil && fl.Value.String() != "" && fl.Value.String() != "false" {
			return true
		}
	}
	return false
}

// fuzzFunc is the fuzz target; tried says the factory was tried already
// (FuzzBot does, before it adds its seeds).
func fuzzFunc(newBot Factory, cov *Coverage, opts []Option, tried bool) func(*testing.T, []byte) {
	o, err := buildOptions(opts)
	if err == nil && newBot == nil {
		err = errors.New("properties: Fuzz(nil): pass the Factory that builds your bot around the suite's Env")
	}
	o.late = &lateWatch{}
	// The factory is tried once, before the first input plays: a factory
	// that cannot build a bot fails every input, and each report says so
	// rather than blame the input.
	var once sync.Once
	prop := rapid.MakeFuzz(func(rt *rapid.T) {
		once.Do(func() {
			if err == nil && !tried {
				err = preflight(newBot, o)
			}
		})
		if err != nil {
			rt.Fatal(fmt.Errorf("%w (the same for every input: not this input's fault)", err))
		}
		// The fuzzer never says it is done: a late write of an earlier
		// case is reported when the next one starts, which the fuzzer
		// then records as the failing input.
		if msg := o.late.report(); msg != "" {
			rt.Fatal("properties: this input is not the one at fault, and will pass when run again: a bot of an earlier case (shown below, whole) wrote after that case had ended\n" + msg)
		}
		k := runCase(rt, newBot, o)
		if cov != nil {
			cov.add(k)
		}
	})
	return func(t *testing.T, input []byte) {
		t.Helper()
		prop(t, expandFuzzInput(input))
	}
}
