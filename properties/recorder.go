package properties

import (
	"fmt"
	"strings"
	"sync"
)

// verdict is a rapid.TB that keeps what rapid says instead of failing a
// test: the mutant tests and the review report use it to run the suite and
// read its verdict and its shrunk counterexample.
type verdict struct {
	name   string
	mu     sync.Mutex
	failed bool
	out    strings.Builder
}

func (v *verdict) Helper()      {}
func (v *verdict) Name() string { return v.name }
func (v *verdict) Logf(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintf(&v.out, format+"\n", args...)
}
func (v *verdict) Log(args ...any) { v.Logf("%s", fmt.Sprint(args...)) }
func (v *verdict) Skipf(format string, args ...any) {
	v.Logf("skip: "+format, args...)
}
func (v *verdict) Skip(args ...any) { v.Log(args...) }
func (v *verdict) SkipNow()         {}
func (v *verdict) Errorf(format string, args ...any) {
	v.Logf(format, args...)
	v.Fail()
}
func (v *verdict) Error(args ...any) { v.Errorf("%s", fmt.Sprint(args...)) }
func (v *verdict) Fatalf(format string, args ...any) {
	v.Errorf(format, args...)
}
func (v *verdict) Fatal(args ...any) { v.Error(args...) }
func (v *verdict) FailNow()          { v.Fail() }
func (v *verdict) Fail() {
	v.mu.Lock()
	v.failed = true
	v.mu.Unlock()
}
func (v *verdict) Failed() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.failed
}
func (v *verdict) String() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.out.String()
}
