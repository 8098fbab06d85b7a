package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/recgate/recgate/graph/graphtest"
)

type faultFlags []string

func (f *faultFlags) String() string     { return strings.Join(*f, ",") }
func (f *faultFlags) Set(v string) error { *f = append(*f, v); return nil }

// parseFault reads "kind[:arg][,key=value...]". The arg is Retry-After
// for throttle and unavailable, milliseconds for latency, the status for
// status and pending, the kind of bad Location for location. The keys are
// notify (completed, failed or terminated), forgery (a graphtest.Forgery)
// and delay (a duration before notifying).
func parseFault(v string) (graphtest.Fault, error) {
	head, opts, _ := strings.Cut(v, ",")
	kind, arg, _ := strings.Cut(head, ":")
	f := graphtest.Fault{Kind: graphtest.FaultKind(kind)}
	switch f.Kind {
	case graphtest.KindThrottle, graphtest.KindUnavailable:
		f.RetryAfter = arg
	case graphtest.KindLatency:
		if _, err := fmt.Sscanf(arg, "%d", &f.DelayMS); err != nil {
			return f, fmt.Errorf("fault %q: latency takes milliseconds, e.g. latency:250", v)
		}
	case graphtest.KindStatus, graphtest.KindPending:
		f.Status = arg
	case graphtest.KindLocation:
		f.Location = arg
	}
	if opts != "" {
		for _, kv := range strings.Split(opts, ",") {
			key, val, ok := strings.Cut(kv, "=")
			if !ok {
				return f, fmt.Errorf("fault %q: %q is not key=value (notify=, forgery=, delay=)", v, kv)
			}
			switch key {
			case "notify":
				f.Notify = val
			case "forgery":
				f.Forgery = graphtest.Forgery(val)
			case "delay":
				d, err := time.ParseDuration(val)
				if err != nil {
					return f, fmt.Errorf("fault %q: delay %q: want a duration such as 500ms or 2s", v, val)
				}
				f.NotifyDelayMS = int(d / time.Millisecond)
			default:
				return f, fmt.Errorf("fault %q: unknown option %q: want notify, forgery or delay", v, key)
			}
		}
	}
	if err := f.Validate(); err != nil {
		return f, fmt.Errorf("fault %q: %w", v, err)
	}
	return f, nil
}

// loadScripts reads the script file (if any) and adds the -fault flags
// for call, checking every fault.
func loadScripts(path, call string, faults []string) (map[string][]graphtest.Fault, error) {
	scripts := map[string][]graphtest.Fault{}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &scripts); err != nil {
			return nil, fmt.Errorf("-script %s: %w", path, err)
		}
	}
	for _, v := range faults {
		f, err := parseFault(v)
		if err != nil {
			return nil, err
		}
		scripts[call] = append(scripts[call], f)
	}
	for id, fs := range scripts {
		for i, f := range fs {
			if err := f.Validate(); err != nil {
				return nil, fmt.Errorf("call %s, fault %d: %w", id, i+1, err)
			}
		}
	}
	return scripts, nil
}
