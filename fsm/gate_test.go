package fsm_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
)

func TestWriterPersistsOnlyWhileRecording(t *testing.T) {
	m, _ := reach(t, fsm.NotRecording)
	var sink bytes.Buffer
	w := m.Gate().Writer(&sink)
	ctx := context.Background()

	_, err := w.Write([]byte("before "))
	assert.ErrorIs(t, err, fsm.ErrGateClosed)
	_, err = m.Start(ctx)
	require.NoError(t, err)
	n, err := w.Write([]byte("during "))
	require.NoError(t, err)
	assert.Equal(t, 7, n)
	require.NoError(t, m.Stop(ctx))
	_, err = w.Write([]byte("after"))
	assert.ErrorIs(t, err, fsm.ErrGateClosed)
	assert.Equal(t, "during ", sink.String())
	require.NoError(t, w.Close())
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestWriterReturnsUnderlyingErrorAndReleases(t *testing.T) {
	m, _ := reach(t, fsm.Recording)
	w := m.Gate().Writer(failingWriter{})
	_, err := w.Write([]byte("x"))
	assert.ErrorContains(t, err, "disk gone")
	// The lease was released: Stop does not hang.
	require.NoError(t, m.Stop(context.Background()))
}

func TestLeaseRules(t *testing.T) {
	m, _ := reach(t, fsm.Recording)
	s := m.Gate().NewStream()

	l, err := s.Acquire()
	require.NoError(t, err)
	_, err = s.Acquire()
	assert.ErrorIs(t, err, fsm.ErrStreamBusy, "one lease per stream at a time")
	assert.ErrorIs(t, s.Close(), fsm.ErrLeaseHeld)
	assert.True(t, l.Release())
	assert.False(t, l.Release(), "a second release does nothing")

	l2, err := s.Acquire()
	require.NoError(t, err)
	assert.False(t, l.Release(), "a stale lease cannot release a newer one")
	assert.True(t, l2.Release())

	assert.False(t, fsm.Lease{}.Release(), "the zero lease holds nothing")

	require.NoError(t, s.Close())
	_, err = s.Acquire()
	assert.ErrorIs(t, err, fsm.ErrStreamBusy, "a closed stream grants no lease")
}

func TestLeaseHotPathDoesNotAllocate(t *testing.T) {
	m, _ := reach(t, fsm.Recording)
	s := m.Gate().NewStream()
	allocs := testing.AllocsPerRun(1000, func() {
		l, err := s.Acquire()
		if err != nil {
			t.Fatal(err)
		}
		l.Release()
	})
	assert.Zero(t, allocs)

	var sink bytes.Buffer
	sink.Grow(1 << 20)
	w := m.Gate().Writer(&sink)
	frame := make([]byte, 640)
	allocs = testing.AllocsPerRun(1000, func() { _, _ = w.Write(frame) })
	assert.Zero(t, allocs)
}
