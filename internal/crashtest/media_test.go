package crashtest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The bot's frame layout (examples/bot/crashsafe.go): 64 bytes, "RGF1",
// stream (u32), tick (u64), arrival time in Unix ns (i64), payload, CRC-32
// of the rest.
const frameSize = 64

// checkMedia reads every media file: whole frames only, each intact and
// arrived inside a confirmed interval, and every acknowledged frame there.
func checkMedia(t *testing.T, dir string, ivs []interval, acked map[frameKey]bool) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*-stream-*.frames"))
	if err != nil {
		t.Fatal(err)
	}
	found := map[frameKey]bool{}
	total := 0
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(name)
		lifeName := base[:strings.LastIndex(base, "-stream-")]
		var stream int
		if _, err := fmt.Sscanf(base[len(lifeName):], "-stream-%d.frames", &stream); err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		if len(data)%frameSize != 0 {
			t.Errorf("%s ends in a torn frame (%d bytes): it was not sealed", base, len(data)%frameSize)
		}
		for off := 0; off+frameSize <= len(data); off += frameSize {
			total++
			f := data[off : off+frameSize]
			if !bytes.Equal(f[:4], []byte("RGF1")) || crc32.ChecksumIEEE(f[:frameSize-4]) != binary.LittleEndian.Uint32(f[frameSize-4:]) {
				t.Errorf("%s: the frame at byte %d is corrupt", base, off)
				continue
			}
			s := int(binary.LittleEndian.Uint32(f[4:]))
			tick := int(binary.LittleEndian.Uint64(f[8:]))
			arrived := time.Unix(0, int64(binary.LittleEndian.Uint64(f[16:])))
			if s != stream {
				t.Errorf("%s: frame of stream %d in the file of stream %d", base, s, stream)
			}
			if !inside(arrived, ivs) {
				t.Errorf("%s: frame %d of stream %d arrived at %s, outside every interval Graph confirmed", base, tick, s, arrived.Format(time.RFC3339Nano))
			}
			found[frameKey{life: lifeName, stream: s, tickNo: tick}] = true
		}
	}
	lost := 0
	for k := range acked {
		if !found[k] {
			lost++
			if lost <= 5 {
				t.Errorf("frame %d of stream %d of %s was acknowledged as persisted and is not on disk", k.tickNo, k.stream, k.life)
			}
		}
	}
	t.Logf("media: %d files, %d frames on disk, %d acknowledged, %d lost", len(files), total, len(acked), lost)
}

// inside reports whether at lies in one of the intervals (an interval
// never reported ended runs on).
func inside(at time.Time, ivs []interval) bool {
	for _, iv := range ivs {
		if !at.Before(iv.from) && (iv.to.IsZero() || at.Before(iv.to)) {
			return true
		}
	}
	return false
}
