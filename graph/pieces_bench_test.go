package graph

import (
	"testing"
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
