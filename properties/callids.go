package properties

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"weak"
)

// callPair names the calls a case plays: the call under test and its
// neighbouring call.
type callPair struct{ test, neighbour string }

// callSeq numbers the cases of the process.
var callSeq atomic.Uint64

// newCallPair returns call IDs no earlier case of the process used. Graph
// never gives two calls one ID, and a process outlives its calls: a bot
// that keeps its calls in a registry by ID (one that refuses a second
// join, or joins idempotently) must see each case's calls as new ones,
// also when an earlier case ended without a CallEnded.
func newCallPair() callPair {
	n := callSeq.Add(1)
	return callPair{
		test:      fmt.Sprintf("57dab8b1-894c-409a-b240-%012x", n),
		neighbour: fmt.Sprintf("9b1e4c2a-5f3d-4e8b-a6c7-%012x", n),
	}
}

// playedCalls maps the call IDs the suite handed out to their Envs, so
// that one Graph client can serve every call of the process, as in
// production: a bot that keeps the first env.Updater it was handed sends
// every call's requests through it, and each request is the call's it
// names. It holds each Env weakly: a call stays routable for as long as
// anything (its case, the late-write watch, a bot) can still use it, and
// its entry goes when the Env is collected.
var playedCalls struct {
	sync.Mutex
	byID map[string]weak.Pointer[Env]
}

// registerCall makes e's call one that any Updater routes to.
func registerCall(e *Env) {
	playedCalls.Lock()
	defer playedCalls.Unlock()
	if playedCalls.byID == nil {
		playedCalls.byID = make(map[string]weak.Pointer[Env])
	}
	w := weak.Make(e)
	playedCalls.byID[e.CallID] = w
	runtime.AddCleanup(e, forgetCall, callEntry{id: e.CallID, w: w})
}

// callEntry is what forgetCall needs: the ID, and which Env's entry (the
// noninterference replay registers its calls' IDs again).
type callEntry struct {
	id string
	w  weak.Pointer[Env]
}

// forgetCall drops a collected Env's entry, unless a later Env took its ID.
func forgetCall(c callEntry) {
	playedCalls.Lock()
	defer playedCalls.Unlock()
	if playedCalls.byID[c.id] == c.w {
		delete(playedCalls.byID, c.id)
	}
}

// playedCall returns the Env of a call the suite handed out, or nil.
func playedCall(id string) *Env {
	playedCalls.Lock()
	defer playedCalls.Unlock()
	return playedCalls.byID[id].Value()
}
