package botrounds

import "testing"

func TestNamesOneOf(t *testing.T) {
	cases := []struct {
		output string
		ids    []string
		want   bool
	}{
		{"P7 ConsentCoversCapture violated at write-begin", []string{"P7"}, true},
		{"P10 UniqueClientContext violated", []string{"P1"}, false},
		{"P1 NoPersistOutsideConfirmedRecording, P6 NoLostUpdates violated (report below)", []string{"P6"}, true},
		{"P1 NoPersistOutsideConfirmedRecording, P9 NoWriteAfterStopAsked violated (report below)", []string{"P9"}, true},
		{"the bot hung in CallEnded: ...", []string{Hung}, true},
		{"noninterference violated (P7 ConsentCoversCapture, for derived data)", []string{"P7"}, false},
		{"noninterference violated: media from outside", []string{Interference}, true},
		{"properties: vacuous run on stream 2: ...", []string{Vacuous}, true},
	}
	for _, c := range cases {
		if got := NamesOneOf(c.output, c.ids); got != c.want {
			t.Errorf("NamesOneOf(%q, %v) = %v, want %v", c.output, c.ids, got, c.want)
		}
	}
}

func TestNamesViolation(t *testing.T) {
	if !NamesViolation("P2 EndBeforeReport violated at request") || NamesViolation("properties: vacuous run: nothing persisted") {
		t.Error("NamesViolation tells a named violation from a vacuous run wrongly")
	}
}
