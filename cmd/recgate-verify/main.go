// Command recgate-verify checks a recgate audit trail for a reviewer who
// has only the file: that no line was removed, changed, added or
// reordered, that it ends where the head kept elsewhere says (with -head),
// and, for each interval in which media could be recorded, what authorised
// it, when the gate opened and closed, and the notRecording (or failed)
// that was sent to Microsoft Graph after it.
//
//	go run github.com/recgate/recgate/cmd/recgate-verify -head 3f1c... recgate-out/audit.jsonl
//
// The head is the SHA-256 of the trail's last line, which the bot printed
// (fsm.Machine.AuditHead) and which should be kept somewhere the trail's
// writer cannot change. Without -head, a trail cut short, or whose last line
// was changed, still verifies: the chain cannot vouch for its own end.
//
// Exit status: 0 when the trail verifies and no interval has a finding; 1
// when it does not verify (a broken chain, or a head that does not match);
// 3 when it verifies but an interval has a finding (nothing authorised the
// opening, a report was sent before the writers were done, the trail ends
// with the gate open); 2 for a usage error.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/recgate/recgate/fsm"
)

// Exit statuses.
const (
	exitVerified = 0
	exitBroken   = 1
	exitUsage    = 2
	exitFindings = 3
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("recgate-verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	head := fs.String("head", "", "the hex SHA-256 of the trail's last line, as the bot printed it (Machine.AuditHead); without it a trail cut short still verifies")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: recgate-verify [-head HEX] TRAIL.jsonl   (- reads standard input)")
		fmt.Fprintln(fs.Output(), "Verifies a recgate audit trail and prints each recorded interval: what authorised it, its start and end, and the report that followed.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitVerified
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "recgate-verify: want exactly one trail file, got %d arguments\n", fs.NArg())
		fs.Usage()
		return exitUsage
	}
	*head = strings.ToLower(strings.TrimSpace(*head))
	if *head != "" {
		if b, err := hex.DecodeString(*head); err != nil || len(b) != sha256.Size {
			fmt.Fprintf(stderr, "recgate-verify: -head %q is not a hex SHA-256 (64 hex digits)\n", *head)
			return exitUsage
		}
	}
	name := fs.Arg(0)
	var raw []byte
	var err error
	if name == "-" {
		raw, err = io.ReadAll(stdin)
	} else {
		raw, err = os.ReadFile(name)
	}
	if err != nil {
		fmt.Fprintf(stderr, "recgate-verify: %v\n", err)
		return exitUsage
	}
	return report(stdout, name, raw, *head)
}

// report verifies raw and prints what a reviewer needs; it returns the exit
// status.
func report(w io.Writer, name string, raw []byte, head string) int {
	var recs []fsm.AuditRecord
	var err error
	if head != "" {
		recs, err = fsm.VerifyAuditTrailHead(bytes.NewReader(raw), head)
	} else {
		recs, err = fsm.VerifyAuditTrail(bytes.NewReader(raw))
	}
	if err != nil {
		fmt.Fprintf(w, "trail %s: DOES NOT VERIFY\n  %v\n", name, err)
		if len(recs) > 0 {
			fmt.Fprintf(w, "  the first %d lines chain correctly; nothing after line %d can be trusted\n", len(recs), len(recs))
		}
		return exitBroken
	}
	if len(recs) == 0 {
		fmt.Fprintf(w, "trail %s: DOES NOT VERIFY\n  the file holds no records\n", name)
		return exitBroken
	}
	first, last := recs[0], recs[len(recs)-1]
	fmt.Fprintf(w, "trail %s: verified\n", name)
	fmt.Fprintf(w, "  call %s, %d records, %s to %s\n", first.CallID, len(recs), stamp(first.Time), stamp(last.Time))
	fmt.Fprintln(w, "  every line chains to the one before by SHA-256, sequence numbers run 1, 2, 3... and times never go back")
	if head != "" {
		fmt.Fprintln(w, "  the last line's hash is the head you gave: nothing was cut from the end")
	} else {
		fmt.Fprintf(w, "  head not checked (no -head): a trail cut short still verifies; the last line's hash is %s\n", lastLineHash(raw))
	}
	ivs := fsm.AuditIntervals(recs)
	fmt.Fprintf(w, "\n%d recorded interval(s) (the gate open: media could be persisted)\n", len(ivs))
	findings := 0
	for i, iv := range ivs {
		fmt.Fprintf(w, "\ninterval %d", i+1)
		if iv.Closed != nil {
			fmt.Fprintf(w, ": %s", iv.Duration().Round(time.Millisecond))
		}
		fmt.Fprintln(w)
		if a := iv.Authorized; a != nil {
			fmt.Fprintf(w, "  authorised by   record %d, %s: %s\n", a.Seq, stamp(a.Time), authorisation(a))
		} else {
			fmt.Fprintln(w, "  authorised by   NOTHING in the trail")
		}
		fmt.Fprintf(w, "  gate opened     record %d, %s (%s)\n", iv.Opened.Seq, stamp(iv.Opened.Time), iv.Opened.Trigger)
		if c := iv.Closed; c != nil {
			fmt.Fprintf(w, "  gate closed     record %d, %s (%s)\n", c.Seq, stamp(c.Time), c.Trigger)
		} else {
			fmt.Fprintln(w, "  gate closed     not in the trail")
		}
		switch r := iv.Report; {
		case r != nil:
			fmt.Fprintf(w, "  then reported   record %d, %s: %s (clientContext %s)\n", r.Seq, stamp(r.Time), r.Status, r.ClientContext)
			if rr := iv.ReportReply; rr != nil {
				fmt.Fprintf(w, "  Graph answered  record %d, %s: %s\n", rr.Seq, stamp(rr.Time), outcome(rr))
			} else {
				fmt.Fprintln(w, "  Graph answered  no reply in the trail")
			}
		case iv.Closed != nil && iv.Closed.Trigger == fsm.CallEnded.String():
			fmt.Fprintln(w, "  then reported   nothing: the call ended (Graph needs no notRecording for an ended call)")
		default:
			fmt.Fprintln(w, "  then reported   no notRecording or failed in the trail")
		}
		for _, f := range iv.Findings {
			findings++
			fmt.Fprintf(w, "  FINDING: %s\n", f)
		}
	}
	if findings > 0 {
		fmt.Fprintf(w, "\n%d finding(s): the trail is intact, but look at the interval(s) above\n", findings)
		return exitFindings
	}
	return exitVerified
}

func authorisation(a *fsm.AuditRecord) string {
	var b strings.Builder
	fmt.Fprintf(&b, "operation %s", orNone(a.OperationID))
	fmt.Fprintf(&b, " (clientContext %s) %s", orNone(a.ClientContext), orNone(a.OperationStatus))
	switch a.Via {
	case "notification":
		fmt.Fprintf(&b, ", by a notification whose token was validated (issuer %s, tenant %s)", orNone(a.Issuer), orNone(a.Tenant))
	case "reply":
		fmt.Fprintf(&b, ", in Graph's reply to the request (request-id %s)", orNone(a.RequestID))
	case "poll":
		b.WriteString(", read from the operation's Location (a poll)")
	case "caller":
		b.WriteString(", handed in by the bot itself (recgate cannot say where it came from)")
	case "":
	default:
		fmt.Fprintf(&b, ", via %s", a.Via)
	}
	return b.String()
}

func outcome(r *fsm.AuditRecord) string {
	switch {
	case r.HTTPStatus != 0:
		return fmt.Sprintf("HTTP %d %s (request-id %s)", r.HTTPStatus, r.ErrorCode, orNone(r.RequestID))
	case r.Error != "":
		return "error: " + r.Error
	}
	return fmt.Sprintf("%s (operation %s, request-id %s)", r.OperationStatus, orNone(r.OperationID), orNone(r.RequestID))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000 UTC") }

// lastLineHash is the SHA-256 of the last line, as Machine.AuditHead gives it.
func lastLineHash(raw []byte) string {
	lines := bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n"))
	sum := sha256.Sum256(lines[len(lines)-1])
	return hex.EncodeToString(sum[:])
}
