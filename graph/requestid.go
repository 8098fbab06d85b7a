package graph

import (
	"crypto/rand"
	"sync"
)

// requestIDBatch is how many client-request-ids one read of crypto/rand
// provides.
const requestIDBatch = 64

// requestIDs hands out client-request-ids: random (version 4) UUIDs whose
// bytes come from crypto/rand, read for many ids at a time instead of once
// per request. Each id takes 16 bytes nobody else gets, so ids are as
// unique as uuid.NewString's. The zero value is ready to use and safe for
// concurrent use.
type requestIDs struct {
	mu   sync.Mutex
	rand [requestIDBatch * 16]byte
	used int // bytes of rand handed out; len(rand) means read again
}

// next returns a new id, formatted like "0fe0623f-d628-42ed-b4bd-8ac290072cc5".
func (g *requestIDs) next() string {
	var u [16]byte
	g.mu.Lock()
	if g.used == 0 || g.used == len(g.rand) {
		// crypto/rand.Read never fails (the program crashes if the
		// system's random source does).
		_, _ = rand.Read(g.rand[:])
		g.used = 0
	}
	copy(u[:], g.rand[g.used:g.used+16])
	g.used += 16
	g.mu.Unlock()
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return formatUUID(&u)
}

// formatUUID writes u in the 8-4-4-4-12 hex form, with the one allocation
// the returned string needs.
func formatUUID(u *[16]byte) string {
	const hexDigits = "0123456789abcdef"
	var s [36]byte
	j := 0
	for i, b := range u {
		switch i {
		case 4, 6, 8, 10:
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hexDigits[b>>4], hexDigits[b&0x0f]
		j += 2
	}
	return string(s[:])
}
