package properties

import "testing"

// FuzzReferenceBot is the suite under go test -fuzz: the fuzzer's bytes
// become rapid's draws, so coverage guidance steers the cases. Plain go
// test plays its seeds. CI runs it briefly (.ci/run); run it longer with
//
//	go test ./properties -run '^$' -fuzz FuzzReferenceBot -fuzztime 5m
func FuzzReferenceBot(f *testing.F) {
	FuzzBot(f, ReferenceBot)
}
