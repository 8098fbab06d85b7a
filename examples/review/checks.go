package main

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// check is one thing the report ran, or meant to run and could not.
type check struct {
	key  string // how table cells name it
	name string // how a reader reads it
	// ran says whether it ran here; passed, whether it passed; skipped
	// says why it did not run ("not run here: ...").
	ran     bool
	passed  bool
	skipped string
	took    time.Duration
	detail  string
}

// result is the check's outcome in a few words.
func (c *check) result() string {
	switch {
	case !c.ran:
		return c.skipped
	case c.passed:
		return "passed"
	}
	return "FAILED"
}

// ran records a check that ran.
func (r *report) ran(key, name string, passed bool, took time.Duration, detail string) *check {
	c := &check{key: key, name: name, ran: true, passed: passed, took: took, detail: detail}
	r.checks = append(r.checks, c)
	if !passed {
		r.failed = true
	}
	return c
}

// notRun records a check that did not run here, and why.
func (r *report) notRun(key, name, why string) *check {
	c := &check{key: key, name: name, skipped: "not run here: " + why}
	r.checks = append(r.checks, c)
	return c
}

func (r *report) find(key string) *check {
	for _, c := range r.checks {
		if c.key == key {
			return c
		}
	}
	return nil
}

// cell is a "checked by" cell: each named check with what it gave when
// this report was made. A key no check has is said to be missing.
func (r *report) cell(keys ...string) string {
	var out []string
	for _, k := range keys {
		c := r.find(k)
		if c == nil {
			out = append(out, fmt.Sprintf("%s: MISSING (the report knows no such check)", k))
			r.failed = true
			continue
		}
		out = append(out, fmt.Sprintf("%s: **%s**", c.name, c.result()))
	}
	return strings.Join(out, "; ")
}

// checksTable lists every check, in the order they were made.
func (r *report) checksTable(s *section) {
	s.p("| check | result | time | what it found |")
	s.p("|---|---|---|---|")
	for _, c := range r.checks {
		took := "-"
		if c.ran {
			took = c.took.Round(time.Millisecond).String()
		}
		s.p("| %s | %s | %s | %s |", c.name, c.result(), took, cellText(c.detail))
	}
	s.p("")
}

// counts returns how many checks ran, passed and did not run.
func (r *report) counts() (ran, passed, skipped int) {
	for _, c := range r.checks {
		switch {
		case !c.ran:
			skipped++
		case c.passed:
			ran++
			passed++
		default:
			ran++
		}
	}
	return
}

// cellText keeps text inside one Markdown table cell.
func cellText(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.Join(strings.Fields(s), " ")
}

// section is one part of the report, written in any order and put
// together in reading order at the end.
type section struct {
	title string
	md    bytes.Buffer
}

func (s *section) p(format string, args ...any) { fmt.Fprintf(&s.md, format+"\n", args...) }

func (s *section) write(text string) { s.md.WriteString(text) }

func (r *report) section(title string) *section {
	s := &section{title: title}
	r.sections[title] = s
	return s
}
