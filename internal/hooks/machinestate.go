package hooks

// MachineState is what of a machine's own state a checker's abstract state
// needs and the machine's API does not show: the gate's epoch (bumped by
// every close, also by the silent close under the lock that a Stop makes
// when it finds the gate already closed), the pending recording attempt,
// and the attempt being fired. A checker compares epochs and
// clientContexts with each other only, never as absolute values, so that
// two machines that differ only by how many epochs went by still count as
// one state.
type MachineState struct {
	// GateEpoch is the gate's epoch; GateOpen and GateEnded its bits.
	GateEpoch           uint64
	GateOpen, GateEnded bool

	// Pending is true when a recording attempt awaits confirmation; its
	// clientContext, operation id and the epoch it began in.
	Pending              bool
	PendingClientContext string
	PendingOperation     string
	PendingEpoch         uint64

	// The firing: the attempt the machine fires now, or the last one it
	// fired (the machine keeps one and overwrites it at each attempt).
	FiringTrigger       int
	FiringStatus        string
	FiringClientContext string
	FiringEpoch         uint64
	// FiringSent: its request was made; FiringReply is the reply's
	// operation status, FiringErr whether it failed, FiringOpened whether
	// it opened the gate.
	FiringSent, FiringErr, FiringOpened bool
	FiringReply                         string
}

// ReadMachine reads m's (an *fsm.Machine's) state. Package fsm installs it
// when it is loaded, as it installs MachineOption; only a checker calls it,
// between the machine's steps, while every goroutine of the machine is
// paused (so the reads need no lock). Production code never calls it.
var ReadMachine func(m any) MachineState
