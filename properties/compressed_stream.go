package properties

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
)

// A compressor that streams into the Sink (gzip.NewWriter(sinkStream))
// writes a member's header, its deflate blocks and its trailer in separate
// writes, so no single write holds what inflatedMembers needs. The Sink
// therefore keeps, per stream, the member a write left unfinished, and
// inflates it again, from its header, with each later write to that
// stream: canaries that appear are the ones this write's bytes completed,
// and are credited to it.

// openMember is a gzip or zlib member that began in an earlier write to a
// Sink stream and has not ended yet.
type openMember struct {
	buf  []byte         // the member's bytes so far, from its header
	seen map[string]int // how often each canary was found in it so far
}

// streamedCanaries returns the canaries that p completes in the member
// left open on stream by earlier writes (a frame written twice into the
// member counts twice), and keep, which records what p leaves open (the
// member it continues, or one it begins and does not finish) once p is
// stored: a write the storage fails changes nothing. overflow is set when
// the member grew past maxInflated, compressed or inflated: what follows
// in it is not traced, and the run says so. Called with s.mu held; keep
// takes it.
func (s *Sink) streamedCanaries(stream int, p []byte) (canaries []string, keep func(), overflow bool) {
	var next *openMember
	// readable is how many of p's bytes belong to a compressed member the
	// sink could read (one it continues, or the first that starts in p):
	// such bytes are not blind, even when they hold no frame (an empty
	// member's header and trailer, for a stream that got no frame).
	readable := 0
	if m := s.open[stream]; m != nil {
		buf := append(m.buf[:len(m.buf):len(m.buf)], p...)
		inflated, state := inflateMember(buf)
		if len(buf) > maxInflated() || len(inflated) > maxInflated() {
			overflow = true
		} else {
			if state != memberCorrupt {
				readable = len(p)
			}
			now := canaryCounts(inflated)
			for c, n := range now {
				for k := m.seen[c]; k < n; k++ {
					canaries = append(canaries, c)
				}
			}
			if state == memberCut {
				next = &openMember{buf: buf, seen: now}
			}
		}
	}
	if (next == nil && !overflow) || readable == 0 {
		first, cut, cutInflated := scanMembers(p)
		if next == nil && !overflow && cut >= 0 {
			// found in this write already (inflatedMembers)
			next = &openMember{buf: append([]byte(nil), p[cut:]...), seen: canaryCounts(cutInflated)}
		}
		if readable == 0 && first >= 0 {
			readable = len(p) - first
		}
	}
	return canaries, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if readable > 0 {
			if s.readable == nil {
				s.readable = make(map[int]int)
			}
			s.readable[stream] += readable
		}
		if next == nil {
			delete(s.open, stream)
			return
		}
		if s.open == nil {
			s.open = make(map[int]*openMember)
		}
		s.open[stream] = next
	}, overflow
}

// canaryCounts counts the canaries in inflated media.
func canaryCounts(inflated []byte) map[string]int {
	out := make(map[string]int)
	for _, c := range findCanariesIn(inflated, 1) {
		out[c]++
	}
	return out
}

// scanMembers looks at every place in p where a gzip or zlib member may
// begin, inflating each once: first is where the first that inflates
// (to its end, or to p's end) begins, cut where the last that p does not
// finish (cut short at p's end) begins, with what it inflates to so far;
// -1 for none.
func scanMembers(p []byte) (first, cut int, cutInflated []byte) {
	first, cut = -1, -1
	tried := 0
	for i := 0; i+1 < len(p) && tried < maxMembers; i++ {
		if !memberHeaderAt(p, i) {
			continue
		}
		tried++
		inflated, state := inflateMember(p[i:])
		if state != memberCorrupt && first < 0 {
			first = i
		}
		if state == memberCut {
			cut, cutInflated = i, inflated
		}
	}
	return first, cut, cutInflated
}

// memberState is how far a member in a buffer goes.
type memberState int

const (
	memberCorrupt memberState = iota // not a member, or invalid data: nothing to wait for
	memberCut                        // valid so far, cut short: the rest may come in the next write
	memberWhole                      // its trailer was read
)

// readableBytes returns, per stream, the bytes stored that belonged to
// compressed members the sink read.
func (s *Sink) readableBytes() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]int, len(s.readable))
	for k, v := range s.readable {
		out[k] = v
	}
	return out
}

// inflateMember inflates the member at the start of b as far as it goes,
// and says whether it ended within b, was cut short, or is corrupt (two
// bytes that look like a zlib header by chance, in binary media, are
// almost always followed by invalid data).
func inflateMember(b []byte) ([]byte, memberState) {
	r, err := openCompressed(b)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, memberCut
		}
		return nil, memberCorrupt
	}
	// One byte past the bound tells a member that is too big from one
	// that ended right at it.
	out, err := io.ReadAll(io.LimitReader(r, int64(maxInflated())+1))
	switch {
	case len(out) > maxInflated():
		return out, memberCorrupt
	case err == nil:
		return out, memberWhole
	case errors.Is(err, io.ErrUnexpectedEOF):
		return out, memberCut
	}
	return out, memberCorrupt
}

// openCompressed opens the gzip or zlib member at the start of b.
func openCompressed(b []byte) (io.Reader, error) {
	if len(b) >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8 {
		z, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		z.Multistream(false)
		return z, nil
	}
	return zlib.NewReader(bytes.NewReader(b))
}
