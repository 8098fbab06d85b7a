package graph

import (
	"testing"

	"github.com/google/uuid"
)

// Benchmarks of the request path's pieces, each beside the code it
// replaced (the baseline, in the same run).

// BenchmarkParseOperationReply: ParseOperation on the reply graphtest and
// Graph send. Baseline: BenchmarkParseOperationEncodingJSONBaseline, the
// encoding/json decoding ParseOperation used before (and still uses for
// any other body).
func BenchmarkParseOperationReply(b *testing.B) {
	body := []byte(graphReply)
	b.ReportAllocs()
	for b.Loop() {
		if op, err := ParseOperation(body); err != nil || !op.Status.Confirmed() {
			b.Fatal(op, err)
		}
	}
}

func BenchmarkParseOperationEncodingJSONBaseline(b *testing.B) {
	body := []byte(graphReply)
	b.ReportAllocs()
	for b.Loop() {
		if op, err := decodeOperationJSON(body); err != nil || !op.Status.Confirmed() {
			b.Fatal(op, err)
		}
	}
}

// BenchmarkRequestID: a client-request-id from crypto/rand read 64 ids at
// a time. Baseline: BenchmarkRequestIDUUIDBaseline, uuid.NewString (one
// crypto/rand read per id), which the client used before.
func BenchmarkRequestID(b *testing.B) {
	var g requestIDs
	b.ReportAllocs()
	for b.Loop() {
		if len(g.next()) != 36 {
			b.Fatal("bad id")
		}
	}
}

func BenchmarkRequestIDUUIDBaseline(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if len(uuid.NewString()) != 36 {
			b.Fatal("bad id")
		}
	}
}
