package properties

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/internal/hooks"
)

// key is the abstract state: everything that decides what can happen next.
// Two paths with the same key have the same futures, so the search visits
// each key once, and may go on from any machine paused at a key instead of
// replaying that key's own path (see donateSeen). Without the gate's own
// steps the writers are interchangeable, so their states are listed sorted
// (a renaming of the writers gives the same key).
//
// What the key leaves out, on purpose: absolute epochs and clientContexts
// (only whether an attempt's epoch is still the gate's, and which attempt
// an operation names, decide anything: see machineKey), and the world's
// memory that only words a violation's message (the latest replies, the
// interval number, the bytes persisted): a violation's path is replayed
// afresh for its message.
func (s *sim) key(b []byte) []byte {
	b = append(b, byte(s.m.State()), boolByte(s.m.Gate().IsOpen()))
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
	b = s.world.appendKey(b, s.threads)
	b = s.machineKey(b)
	if s.steps && s.hooks.GateState != nil {
		b = append(b, '|')
		b = s.hooks.GateState(b)
	}
	return b
}

// worldMessageOnly names the fields of World that the key leaves out,
// each with the reason it decides no verdict of the model checker (only
// the words of a violation's message, which comes from a fresh replay of
// its path). Every other field is in the key, as appendKey finds it: a
// field added to World later is in the key until someone shows it need
// not be.
var worldMessageOnly = map[string]string{
	"InFlightStatus": "P1 picks its message with it; every case it picks is a violation",
	"AttemptLabel":   "names the attempt in P3's message; P3's allowance asks only whether it is a Stop or Fail, which the thread's event in the key says",
	"Persisted":      "counts bytes; no invariant compares it",
	"Interval":       "numbers the confirmed intervals for P7, whose frames the model checker's writes do not carry (Event.Media is empty)",
	"everRequested":  "P1 picks its message with it; both cases are violations",
	"confirmedAtEnd": "decides only sink writes (Event.FromSink), which the model checker does not make",
	"EndedReturned":  "set by EvReturned, which the model checker does not send",
	"StopReturned":   "decides P9 only for background gate openings, and P3's reportsUnsent only for background reports, which the model checker does not make (and it sends no EvReturned)",
}

// worldKeyFields is the plan appendKey follows: World's fields in order,
// each with its kind, less worldMessageOnly.
var worldKeyFields = func() (fields []worldKeyField) {
	t := reflect.TypeOf(World{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if _, skip := worldMessageOnly[f.Name]; skip {
			continue
		}
		fields = append(fields, worldKeyField{index: i, name: f.Name, kind: f.Type.Kind()})
	}
	return fields
}()

// recordingOut reports whether a machine thread waits for Graph's reply to
// a recording request.
func recordingOut(threads []*thread) bool {
	for t := 0; t < threadWriter0; t++ {
		if threads[t].at == atRequest && threads[t].status == graph.StatusRecording {
			return true
		}
	}
	return false
}

// worldRefusedBy is the index of World.refusedBy, -1 if it has none.
var worldRefusedBy = func() int {
	if f, ok := reflect.TypeOf(World{}).FieldByName("refusedBy"); ok && f.Type.Kind() == reflect.String {
		return f.Index[0]
	}
	return -1
}()

type worldKeyField struct {
	index int
	name  string
	kind  reflect.Kind
}

// appendKey appends what of the world decides a verdict from now on:
// every field but worldMessageOnly. Some count only as far as a verdict
// reads them. The maps by thread count only for the machine threads with
// an attempt under way (an attempt starts them afresh): RequestsThisAttempt
// as none, one or more (P3 asks only whether there was one), LastReply as
// whether it allows a retry (P3's only use of it) and of which request.
// refusedBy counts as set or not (P3 reads it so; its words are the
// message's), and refusedThread only while refusedBy is set (P3 reads it
// only then, and a refusal sets both); recordingThread only while a reply
// or an update can still be about the latest recording request (one is
// out, or its outcome is pending): a new request sets it before anything
// else reads it.
func (w *World) appendKey(b []byte, threads []*thread) []byte {
	v := reflect.ValueOf(w).Elem()
	for _, f := range worldKeyFields {
		fv := v.Field(f.index)
		switch {
		case f.name == "recordingThread" && f.kind == reflect.Int:
			if w.LastRecordingOutcome == OutcomePending || recordingOut(threads) {
				b = binary.AppendVarint(b, fv.Int())
			} else {
				b = append(b, 0xff)
			}
		case f.name == "refusedBy" && f.kind == reflect.String:
			b = append(b, boolByte(fv.Len() > 0))
		case f.name == "refusedThread" && f.kind == reflect.Int && worldRefusedBy >= 0:
			if v.Field(worldRefusedBy).Len() > 0 {
				b = binary.AppendVarint(b, fv.Int())
			} else {
				b = append(b, 0xff)
			}
		case f.name == "RequestsThisAttempt":
			for t := 0; t < threadWriter0; t++ {
				n := 0
				if threads[t].event != evNone {
					n = min(w.RequestsThisAttempt[t], 2)
				}
				b = append(b, byte(n))
			}
		case f.name == "LastReply":
			for t := 0; t < threadWriter0; t++ {
				var retry byte
				if r, ok := w.LastReply[t]; ok && threads[t].event != evNone && r.Retryable {
					retry = statusByte(r.Status)
				}
				b = append(b, retry)
			}
		case f.kind == reflect.Bool:
			b = append(b, boolByte(fv.Bool()))
		case f.kind >= reflect.Int && f.kind <= reflect.Int64:
			b = binary.AppendVarint(b, fv.Int())
		case f.kind >= reflect.Uint && f.kind <= reflect.Uint64:
			b = binary.AppendUvarint(b, fv.Uint())
		case f.kind == reflect.String:
			b = binary.AppendUvarint(b, uint64(fv.Len()))
			b = append(b, fv.String()...)
		case fv.IsZero():
			b = append(b, 0)
		default:
			// A map or another kind added to World later: all of it, in
			// fmt's order (sorted keys).
			b = fmt.Appendf(b, "%v", fv)
		}
		b = append(b, ',')
	}
	return b
}

// Bytes of machineKey.
const (
	keyNone    = 2 // no such attempt
	keyNoOwner = 0xff
)

// machineKey appends what of the machine's own state (hooks.ReadMachine)
// decides its future, relative to the rest: a recording attempt opens the
// gate, or even sends its request, only while its epoch is still the
// gate's (any close since it began makes it stale for good, and the end of
// the call makes every attempt stale), so each attempt's epoch counts only
// as equal to the gate's or not; an update opens or fails the pending
// attempt only if it names it, so the pending attempt counts by whether
// the operation the update moves carry names it. The firing (the attempt
// the machine fires now) counts only while a thread is inside one after
// its request (with a seeded bug that lets go of the lock during a
// request, another attempt can overwrite it): otherwise it is either the
// lock holder's own, which its thread's state says, or a leftover that
// the next attempt overwrites before anything reads it.
func (s *sim) machineKey(b []byte) []byte {
	ms := hooks.ReadMachine(s.m)
	stale := func(epoch uint64) byte { return boolByte(ms.GateEnded || epoch != ms.GateEpoch) }
	b = append(b, '|', boolByte(ms.GateEnded))
	inside := false
	for t := 0; t < threadWriter0; t++ {
		th := s.threads[t]
		if th.event == evStart || th.event == evDupStart {
			b = append(b, stale(th.epoch))
		} else {
			b = append(b, keyNone)
		}
		inside = inside || th.requested
	}
	if ms.Pending {
		names := false
		if p := s.pending; p != nil {
			names = p.ClientContext == ms.PendingClientContext ||
				p.ClientContext == "" && p.ID != "" && p.ID == ms.PendingOperation
		}
		b = append(b, 1, stale(ms.PendingEpoch), boolByte(names))
	} else {
		b = append(b, 0)
	}
	if inside {
		owner := byte(keyNoOwner)
		for t := 0; t < threadWriter0; t++ {
			if th := s.threads[t]; th.requested && th.cc == ms.FiringClientContext {
				owner = byte(t)
			}
		}
		b = append(b, '|', byte(ms.FiringTrigger), statusByte(graph.Status(ms.FiringStatus)), stale(ms.FiringEpoch), owner,
			boolByte(ms.FiringSent), boolByte(ms.FiringErr), boolByte(ms.FiringOpened), opStatusByte(ms.FiringReply))
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

var opStatuses = []graph.OperationStatus{graph.OperationNotStarted, graph.OperationRunning, graph.OperationCompleted, graph.OperationFailed}

func opStatusByte(st string) byte {
	if st == "" {
		return 0
	}
	return byte(slices.Index(opStatuses, graph.OperationStatus(st)) + 2)
}

var statuses = []graph.Status{graph.StatusNotRecording, graph.StatusRecording, graph.StatusFailed}

func statusByte(st graph.Status) byte { return byte(slices.Index(statuses, st) + 1) }
