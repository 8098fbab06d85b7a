package properties

import "sync/atomic"

// Media a bot compresses before env.Sink (a lead-in gzipped "because it is
// the bulky part", a zlib-packed archive) keeps its canaries once inflated.
// The sink looks for the two formats that announce themselves, gzip and
// zlib, at every place in a write where their header could start, and
// inflates what follows. Raw deflate has no header and stays untraceable,
// as does encryption.

// maxInflated bounds what one member may inflate to: a bot's media in a
// case is far smaller, and a compression bomb must not stall the suite.
func maxInflated() int {
	if n := inflateLimit.Load(); n > 0 {
		return int(n)
	}
	return 4 << 20
}

// inflateLimit, when set, replaces maxInflated's 4 MiB: only so that a
// test can meet the bound without inflating megabytes under the race
// detector. Atomic, since a bot goroutine left over from an earlier test
// may still be writing while a test sets it.
var inflateLimit atomic.Int64

const (
	// maxMembers bounds the places tried in one write: zlib's two-byte
	// header also turns up by chance in binary media.
	maxMembers = 32
)

// inflatedMembers returns what each gzip or zlib member that starts in p
// inflates to, as far as it goes: a member cut short at the end of p (the
// rest in a later write) gives what its first part holds.
func inflatedMembers(p []byte) [][]byte {
	var out [][]byte
	tried := 0
	for i := 0; i+1 < len(p) && tried < maxMembers; i++ {
		if !memberHeaderAt(p, i) {
			continue
		}
		tried++
		// A member cut short or corrupt still gives what it inflated
		// before the error.
		if b, _ := inflateMember(p[i:]); len(b) > 0 {
			out = append(out, b[:min(len(b), maxInflated())])
		}
	}
	return out
}

// memberHeaderAt reports whether a gzip member (deflate) or a zlib stream
// may begin at p[i].
func memberHeaderAt(p []byte, i int) bool {
	if i+2 < len(p) && p[i] == 0x1f && p[i+1] == 0x8b && p[i+2] == 8 {
		return true
	}
	return i+1 < len(p) && zlibHeader(p[i], p[i+1])
}

// zlibHeader reports whether a and b open a zlib stream: deflate with a
// window of at most 32 KiB, no preset dictionary, and the header's check.
func zlibHeader(a, b byte) bool {
	return a&0x0f == 8 && a>>4 <= 7 && b&0x20 == 0 && (uint16(a)<<8|uint16(b))%31 == 0
}
