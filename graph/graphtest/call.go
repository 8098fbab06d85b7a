package graphtest

import (
	"fmt"

	"github.com/recgate/recgate/graph"
)

// Call is one call known to the fake, with its script.
type Call struct {
	s             *Server
	id            string
	script        []Fault
	nth           map[int]Fault
	requests      int
	terminated    bool
	nonCompliance bool
	ops           map[string]*graph.Operation
	order         []string // operation IDs, oldest first
	status        string
	callback      *callbackTarget
}

// Then queues faults for this call's next requests, one per request; once
// the queue is empty the fake answers normally.
func (c *Call) Then(faults ...Fault) *Call {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.script = append(c.script, faults...)
	return c
}

// OnRequest plays f on this call's nth update request (1-based), ahead of
// anything Then queued.
func (c *Call) OnRequest(n int, f Fault) *Call {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.nth[n] = f
	return c
}

// NonCompliance makes every update of this call fail as a call that is
// not a compliance-recording call does: 403 with code 8506.
func (c *Call) NonCompliance() *Call {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.nonCompliance = true
	return c
}

// ReplyWith sets the operation status normal replies carry (default
// completed), e.g. "running" to make every reply pending.
func (c *Call) ReplyWith(status string) *Call {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.status = status
	return c
}

// Terminate ends the call: 404 from now on.
func (c *Call) Terminate() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.terminated = true
}

// SetOperationStatus changes a stored operation, as Graph does when a
// pending operation completes; a later GET of its Location shows it.
func (c *Call) SetOperationStatus(opID string, status graph.OperationStatus) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	op := c.ops[opID]
	if op == nil {
		return fmt.Errorf("graphtest: call %s has no operation %q", c.id, opID)
	}
	op.Status = status
	return nil
}

// Operations returns the operations the fake created for this call,
// oldest first.
func (c *Call) Operations() []graph.Operation {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	out := make([]graph.Operation, 0, len(c.order))
	for _, id := range c.order {
		out = append(out, *c.ops[id])
	}
	return out
}
