package main

import (
	"regexp"
	"strings"
)

// measuredRate is a catch rate README.md records for one bot: the cell
// as written, and the round package whose table it is under.
type measuredRate struct {
	rate string // "8/10", "7 - 9/10 with `WithStorageStalls` (...)", "not caught: ..."
	pkg  string // "internal/roundfive", "" when README names none above the table
	runs string // the denominator, "10" when the cell gives none
}

// partial reports whether the rate is short of every run catching the bot.
func (m measuredRate) partial() bool {
	full := regexp.MustCompile(`^(\d+)/(\d+)\b`).FindStringSubmatch(m.rate)
	return full == nil || full[1] != full[2]
}

var (
	roundPkg    = regexp.MustCompile(`internal/(buggybots|userbots|round[a-z]+)\b`)
	denominator = regexp.MustCompile(`/(\d+)\b`)
)

// readmeRates reads the catch rates from README.md's tables of bugs: a
// table whose header starts "| bug |" and has a "caught" column. A row's
// first cell may name several bots ("AsyncStop, AsyncStopSilent"). Only
// names in known are kept (the machine's mutants have tables of their own).
func readmeRates(readme string, known map[string]bool) map[string]measuredRate {
	out := map[string]measuredRate{}
	pkg, caughtCol := "", -1
	for _, line := range strings.Split(readme, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			caughtCol = -1
			if m := roundPkg.FindAllString(line, -1); len(m) > 0 {
				pkg = m[len(m)-1]
			}
			continue
		}
		cells := tableCells(line)
		if len(cells) > 0 && cells[0] == "bug" {
			caughtCol = -1
			for i, c := range cells {
				if c == "caught" {
					caughtCol = i
				}
			}
			continue
		}
		if caughtCol < 0 || caughtCol >= len(cells) || strings.HasPrefix(cells[0], "---") {
			continue
		}
		rate := measuredRate{rate: cells[caughtCol], pkg: pkg, runs: "10"}
		if d := denominator.FindStringSubmatch(rate.rate); d != nil {
			rate.runs = d[1]
		}
		for _, name := range strings.Split(cells[0], ",") {
			name = strings.Trim(strings.TrimSpace(name), "`")
			if known[name] {
				out[name] = rate
			}
		}
	}
	return out
}

// tableCells splits one Markdown table row into its trimmed cells.
func tableCells(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	cells := strings.Split(line, "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

// suiteLimit is one limit of the property suite in its own package doc.
type suiteLimit struct {
	topic  string // the report's heading for it
	marker string // where the quote starts (or a phrase of its sentence)
	// paragraph: quote from the marker to the end of its paragraph, not
	// only its sentence.
	paragraph bool
}

// suiteLimits are the passages of properties/doc.go the report quotes.
var suiteLimits = []suiteLimit{
	{topic: "media it cannot trace", marker: "What cannot be traced:", paragraph: true},
	{topic: "two calls per case: no session re-created under one call ID, media at the same moment only by chance", marker: "What it does not show: a call's session re-created"},
	{topic: "writes later than the late window", marker: "Writes that land even later"},
	{topic: "storage that falls behind (off by default)", marker: "With WithStorageStalls, storage falls behind too"},
	{topic: "a hook that waits on a timer instead of the writes", marker: "one that waits on a timer's channel cannot be told"},
}

// docParagraphs returns a Go file's comment text as paragraphs, each
// joined into one line; indented code lines are left out.
func docParagraphs(src string) []string {
	var paras []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			paras = append(paras, strings.Join(cur, " "))
			cur = nil
		}
	}
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "//") {
			flush()
			continue
		}
		text := strings.TrimPrefix(line, "//")
		if strings.HasPrefix(text, "\t") {
			continue
		}
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "# ") {
			flush()
			continue
		}
		cur = append(cur, text)
	}
	flush()
	return paras
}

// quoteLimit finds the limit's passage in the paragraphs: from the start
// of the sentence holding the marker to that sentence's end, or to the
// paragraph's end. It returns "" when the marker is not there.
func quoteLimit(paras []string, l suiteLimit) string {
	for _, p := range paras {
		i := strings.Index(p, l.marker)
		if i < 0 {
			continue
		}
		start := strings.LastIndex(p[:i], ". ")
		if start < 0 {
			start = 0
		} else {
			start += 2
		}
		if l.paragraph {
			return p[start:]
		}
		end := sentenceEnd.FindStringIndex(p[i:])
		if end == nil {
			return p[start:]
		}
		return p[start : i+end[0]+1]
	}
	return ""
}

// sentenceEnd is a full stop followed by the next sentence.
var sentenceEnd = regexp.MustCompile(`\.\s+[A-Z]`)
