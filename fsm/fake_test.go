package fsm_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/recgate/recgate/graph"
)

// request is one call the fake updater received.
type request struct {
	Status        graph.Status
	ClientContext string
	At            time.Time
}

// reply is what the fake answers to one request.
type reply struct {
	Status graph.OperationStatus
	Err    error
	// Block, when set, makes the request wait until the channel is closed
	// (the context is ignored, as a slow server would).
	Block chan struct{}
}

// fakeUpdater counts and logs requests and answers from a script (default:
// completed). It is safe for concurrent use.
type fakeUpdater struct {
	mu      sync.Mutex
	log     []request
	script  []reply
	started chan struct{} // receives once per request, if set
}

func (f *fakeUpdater) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, cc string) (graph.Operation, error) {
	f.mu.Lock()
	f.log = append(f.log, request{Status: status, ClientContext: cc, At: time.Now()})
	r := reply{Status: graph.OperationCompleted}
	if len(f.script) > 0 {
		r, f.script = f.script[0], f.script[1:]
	}
	n := len(f.log)
	f.mu.Unlock()
	if f.started != nil {
		f.started <- struct{}{}
	}
	if r.Block != nil {
		<-r.Block
	}
	if r.Err != nil {
		return graph.Operation{}, r.Err
	}
	return graph.Operation{
		ODataType:     graph.OperationODataType,
		ID:            fmt.Sprintf("op-%d", n),
		ClientContext: cc,
		Status:        r.Status,
	}, nil
}

func (f *fakeUpdater) then(rs ...reply) *fakeUpdater {
	f.mu.Lock()
	f.script = append(f.script, rs...)
	f.mu.Unlock()
	return f
}

func (f *fakeUpdater) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.log...)
}

func (f *fakeUpdater) statuses() []graph.Status {
	var out []graph.Status
	for _, r := range f.requests() {
		out = append(out, r.Status)
	}
	return out
}
