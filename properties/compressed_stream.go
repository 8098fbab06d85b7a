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
	buf  []byte              // the member's bytes so far, from its header
	seen map[string]struct{} // canaries already found in it
}

// streamedCanaries returns the canaries that p completes in the member
// left open on stream by earlier writes, and keep, which records what p
// leaves open (the member it continues, or one it begins and does not
// finish) once p is stored: a write the storage fails changes nothing.
// Called with s.mu held; keep takes it.
func (s *Sink) streamedCanaries(stream int, p []byte) (canaries []string, keep func()) {
	var next *openMember
	if m := s.open[stream]; m != nil && len(m.buf)+len(p) <= maxInflated {
		buf := append(m.buf[:len(m.buf):len(m.buf)], p...)
		inflated, state := inflateMember(buf)
		seen := make(map[string]struct{}, len(m.seen))
		for c := range m.seen {
			seen[c] = struct{}{}
		}
		for _, c := range findCanariesIn(inflated, false) {
			if _, ok := seen[c]; !ok {
				seen[c] = struct{}{}
				canaries = append(canaries, c)
			}
		}
		if state == memberCut {
			next = &openMember{buf: buf, seen: seen}
		}
	}
	if next == nil {
		if i := lastOpenHeader(p); i >= 0 {
			next = &openMember{buf: append([]byte(nil), p[i:]...), seen: make(map[string]struct{})}
			inflated, _ := inflateMember(next.buf)
			for _, c := range findCanariesIn(inflated, false) {
				next.seen[c] = struct{}{} // found in this write already (inflatedMembers)
			}
		}
	}
	return canaries, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if next == nil {
			delete(s.open, stream)
			return
		}
		if s.open == nil {
			s.open = make(map[int]*openMember)
		}
		s.open[stream] = next
	}
}

// lastOpenHeader returns where in p the last gzip or zlib member begins
// that p does not finish (it runs to p's end, cut short), or -1.
func lastOpenHeader(p []byte) int {
	last, tried := -1, 0
	for i := 0; i+2 <= len(p) && tried < maxMembers; i++ {
		if !(i+2 < len(p) && p[i] == 0x1f && p[i+1] == 0x8b && p[i+2] == 8) && !zlibHeader(p[i], p[i+1]) {
			continue
		}
		tried++
		if _, state := inflateMember(p[i:]); state == memberCut {
			last = i
		}
	}
	return last
}

// memberState is how far a member in a buffer goes.
type memberState int

const (
	memberCorrupt memberState = iota // not a member, or invalid data: nothing to wait for
	memberCut                        // valid so far, cut short: the rest may come in the next write
	memberWhole                      // its trailer was read
)

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
	out, err := io.ReadAll(io.LimitReader(r, maxInflated))
	switch {
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
