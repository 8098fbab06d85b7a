package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// Audio format of the demo's media: 16 kHz, 16-bit, mono, 20 ms frames, as
// Teams' unmixed audio sockets deliver.
const (
	sampleRate   = 16000
	frameSamples = sampleRate / 50 // 20 ms
	frameBytes   = frameSamples * 2
)

// wavFile is a minimal PCM WAV writer: the header's sizes are written when
// the file is closed, which the recording-ended hook does.
type wavFile struct {
	f      *os.File
	data   int64
	closed bool
}

func createWAV(path string) (*wavFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := &wavFile{f: f}
	if err := w.header(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func (w *wavFile) header() error {
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+w.data))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], sampleRate)
	binary.LittleEndian.PutUint32(h[28:], sampleRate*2)
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(w.data))
	_, err := w.f.WriteAt(h, 0)
	return err
}

// Write appends PCM data.
func (w *wavFile) Write(p []byte) (int, error) {
	if w.closed {
		return 0, fmt.Errorf("wav: write after close")
	}
	n, err := w.f.WriteAt(p, 44+w.data)
	w.data += int64(n)
	return n, err
}

// Close writes the final sizes, syncs and closes the file.
func (w *wavFile) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.header(); err != nil {
		w.f.Close()
		return err
	}
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}

// readWAV returns a WAV file's PCM data length and duration, checking the
// header the way a player would.
func readWAV(path string) (dataBytes int64, seconds float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	h := make([]byte, 44)
	if _, err := io.ReadFull(f, h); err != nil {
		return 0, 0, fmt.Errorf("wav %s: short header: %w", path, err)
	}
	if string(h[0:4]) != "RIFF" || string(h[8:16]) != "WAVEfmt " || string(h[36:40]) != "data" {
		return 0, 0, fmt.Errorf("wav %s: not a PCM WAV file", path)
	}
	size := int64(binary.LittleEndian.Uint32(h[40:]))
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	if st.Size() != 44+size {
		return 0, 0, fmt.Errorf("wav %s: header says %d data bytes, file has %d", path, size, st.Size()-44)
	}
	return size, float64(size) / float64(sampleRate*2), nil
}
