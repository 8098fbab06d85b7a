package properties

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"crypto/rand"
	"testing"
)

func gzipped(t *testing.T, p []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	if _, err := z.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zlibbed(t *testing.T, p []byte, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	z, err := zlib.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := z.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Canaries inside gzip and zlib members are found, whole or cut short,
// anywhere in a write; raw deflate (no header) stays a limit.
func TestCanariesInsideCompressedMembers(t *testing.T) {
	media := []byte("frame zqabcdef said the quick brown fox, frame zqghijkl jumped")
	noise := make([]byte, 300)
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	gz := gzipped(t, media)
	cases := []struct {
		name string
		p    []byte
		want int
	}{
		{"gzip member", gz, 2},
		{"gzip after a header and noise", append(append([]byte("HDR1"), noise...), gz...), 2},
		{"gzip cut short", gz[:len(gz)-8], 2}, // the trailer in a later write
		{"zlib, best speed", zlibbed(t, media, zlib.BestSpeed), 2},
		{"zlib, default", append([]byte("x"), zlibbed(t, media, zlib.DefaultCompression)...), 2},
		{"zlib, best compression", zlibbed(t, media, zlib.BestCompression), 2},
		{"two members", append(gzipped(t, media[:30]), zlibbed(t, media[30:], 6)...), 2},
	}
	for _, c := range cases {
		if got := findCanaries(c.p); len(got) != c.want {
			t.Errorf("%s: found %v, want %d canaries", c.name, got, c.want)
		}
	}
	var raw bytes.Buffer
	fw, _ := flate.NewWriter(&raw, flate.DefaultCompression)
	_, _ = fw.Write(media)
	_ = fw.Close()
	if got := findCanaries(raw.Bytes()); len(got) != 0 {
		t.Errorf("raw deflate: found %v; it has no header, so the sink cannot know it is there", got)
	}
}

// A bomb does not stall the suite: one member inflates to at most
// maxInflated bytes.
func TestInflatingIsBounded(t *testing.T) {
	big := bytes.Repeat([]byte{'a'}, 3*maxInflated())
	out := inflatedMembers(gzipped(t, big))
	if len(out) != 1 || len(out[0]) != maxInflated() {
		t.Fatalf("inflated %d members, first %d bytes; want one of %d", len(out), len(out[0]), maxInflated())
	}
}

// Random binary media makes no canaries appear, and the tries per write
// are bounded.
func TestRandomBytesInflateToNoCanaries(t *testing.T) {
	p := make([]byte, 1<<16)
	if _, err := rand.Read(p); err != nil {
		t.Fatal(err)
	}
	if got := findCanaries(p); len(got) != 0 {
		t.Fatalf("found %v in random bytes", got)
	}
}
