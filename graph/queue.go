package graph

import (
	"context"
	"sync"
)

// callQueues lets one request per call be in flight, in arrival order: each
// request waits for the one before it on the same call. Requests for
// different calls never wait for each other.
type callQueues struct {
	mu    sync.Mutex
	calls map[string]*callQueue
}

type callQueue struct {
	tail  chan struct{} // closed when the last request to enter is done
	users int
}

// enter waits for the call's earlier requests and returns the function that
// lets the next one go. If ctx ends while waiting, it returns ctx's error;
// the requests behind still wait for the ones ahead, so order holds.
func (q *callQueues) enter(ctx context.Context, callID string) (func(), error) {
	q.mu.Lock()
	if q.calls == nil {
		q.calls = make(map[string]*callQueue)
	}
	cq := q.calls[callID]
	if cq == nil {
		cq = &callQueue{}
		q.calls[callID] = cq
	}
	prev := cq.tail
	mine := make(chan struct{})
	cq.tail = mine
	cq.users++
	q.mu.Unlock()

	leave := func() {
		close(mine)
		q.mu.Lock()
		cq.users--
		if cq.users == 0 {
			delete(q.calls, callID)
		}
		q.mu.Unlock()
	}
	if prev == nil {
		return leave, nil
	}
	select {
	case <-prev:
		return leave, nil
	case <-ctx.Done():
		// Give our place up only once the one ahead is done, so whoever
		// waits on us still waits for it.
		go func() {
			<-prev
			leave()
		}()
		return nil, ctx.Err()
	}
}
