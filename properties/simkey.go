package properties

import (
	"slices"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// key is the abstract state: everything that decides what can happen next.
// Two paths with the same key have the same futures, so the search visits
// each key once. Without the gate's own steps the writers are
// interchangeable, so their states are listed sorted (a renaming of the
// writers gives the same key).
func (s *sim) key(b []byte) []byte {
	b = append(b, byte(s.m.State()), boolByte(s.m.Gate().IsOpen()))
	b = appendUint(b, s.epoch)
	for _, th := range s.threads {
		b = append(b, byte(th.event), byte(th.at), byte(th.hookPoint), statusByte(th.status))
	}
	b = append(b, byte(s.lockBy+1), '|')
	start := len(b)
	b = s.writerTuples(b)
	if !s.steps {
		sortTuples(b[start:], 4)
	}
	b = append(b, '|', boolByte(s.pending != nil), byte(s.starts), byte(s.stops), byte(s.updates), byte(s.ended), byte(s.dups))
	w := &s.world
	b = append(b, boolByte(w.Confirmed), byte(w.LastRecordingOutcome), boolByte(w.Reported), statusByte(w.LastReport),
		boolByte(w.Ended), byte(w.InFlight), byte(w.Writing), boolByte(w.UnflushedWrites), stopByte(w.StopAsked),
		boolByte(w.Introspecting), boolByte(w.Concurrent))
	// P3 counts the requests of the attempt under way on each thread.
	for t := 0; t < threadWriter0; t++ {
		n := 0
		if s.threads[t].event != evNone {
			n = min(w.RequestsThisAttempt[t], 2)
		}
		b = append(b, byte(n))
	}
	if s.steps && s.hooks.GateState != nil {
		b = append(b, '|')
		b = s.hooks.GateState(b)
	}
	return b
}

// writerTuples appends each writer's state, in the writers' order (key
// sorts them). Two machines with the same key and the same writer tuples
// are interchangeable even for the moves, which name the writers.
func (s *sim) writerTuples(b []byte) []byte {
	for _, w := range s.writers {
		b = append(b, byte(w.state), boolByte(w.opened), boolByte(w.stale != (fsm.Lease{})), boolByte(w.staleUsed))
	}
	return b
}

// sortTuples sorts b's n-byte tuples in place.
func sortTuples(b []byte, n int) {
	for i := n; i < len(b); i += n {
		for j := i; j > 0 && string(b[j:j+n]) < string(b[j-n:j]); j -= n {
			for x := 0; x < n; x++ {
				b[j+x], b[j-n+x] = b[j-n+x], b[j+x]
			}
		}
	}
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func appendUint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

var statuses = []graph.Status{graph.StatusNotRecording, graph.StatusRecording, graph.StatusFailed}

func statusByte(st graph.Status) byte { return byte(slices.Index(statuses, st) + 1) }

func stopByte(asked string) byte {
	switch asked {
	case "":
		return 0
	case "Stop":
		return 1
	case "Fail":
		return 2
	}
	return 3
}
