package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// provenance says what was reviewed and where: the module's version and
// commit, whether the tree had local changes, the Go version and the
// machine.
type provenance struct {
	module, version string
	commit          string // "" when unknown
	commitTime      string
	modified        string // "yes (N files: ...)", "no", or why it is unknown
	source          string // where commit and modified came from
	root            string // the checkout's root, "" when not run from one
	goVersion       string
	machine         string
	date            time.Time
}

func findProvenance(now time.Time) provenance {
	p := provenance{module: "github.com/recgate/recgate", version: "(unknown)", goVersion: runtime.Version(),
		machine: runtime.GOOS + "/" + runtime.GOARCH + ", " + itoa(runtime.NumCPU()) + " CPUs" + cpuModel(), date: now}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path != "" {
			p.module = bi.Main.Path
		}
		if bi.Main.Version != "" {
			p.version = bi.Main.Version
		}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		if rev := settings["vcs.revision"]; rev != "" {
			p.commit, p.commitTime, p.source = rev, settings["vcs.time"], "the binary's build information (debug.ReadBuildInfo)"
			p.modified = map[string]string{"true": "yes (the build says vcs.modified=true)", "false": "no"}[settings["vcs.modified"]]
		}
	}
	p.root = moduleRoot()
	if p.commit == "" && p.root != "" {
		if out, err := gitOutput(p.root, "rev-parse", "HEAD"); err == nil {
			p.commit, p.source = strings.TrimSpace(out), "git in the checkout ("+p.root+")"
			if t, err := gitOutput(p.root, "log", "-1", "--format=%cI"); err == nil {
				p.commitTime = strings.TrimSpace(t)
			}
			if st, err := gitOutput(p.root, "status", "--porcelain"); err == nil {
				p.modified = describeChanges(st)
			}
		}
	}
	if p.commit == "" {
		p.commit, p.modified, p.source = "(unknown)", "(unknown)", "neither the build information nor git could say"
	}
	if p.modified == "" {
		p.modified = "(unknown)"
	}
	return p
}

// modifiedShort is modified without the list of paths.
func (p provenance) modifiedShort() string {
	s, _, _ := strings.Cut(p.modified, " (")
	s, _, _ = strings.Cut(s, ":")
	return s
}

// describeChanges summarises `git status --porcelain`.
func describeChanges(status string) string {
	lines := strings.Split(strings.TrimSpace(status), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return "no (git status shows a clean tree)"
	}
	var names []string
	for i, l := range lines {
		if i == 8 {
			names = append(names, "…")
			break
		}
		names = append(names, "`"+strings.TrimSpace(l)+"`")
	}
	return "yes: " + itoa(len(lines)) + " paths differ from the commit (" + strings.Join(names, ", ") + ")"
}

// moduleRoot is the recgate checkout the report runs in, or "".
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		raw, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			if strings.HasPrefix(string(raw), "module github.com/recgate/recgate\n") {
				return dir
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func gitOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return string(out), err
}

// cpuModel names the processor where the system says (Linux).
func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return " (" + strings.TrimSpace(v) + ")"
		}
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }
