package fsm

// WithTimer lets the external tests replace time.AfterFunc for the
// confirmation deadline and the polls, and fire them when they choose.
var WithTimer = withTimer
