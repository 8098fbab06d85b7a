// Package endtoend holds recgate's end-to-end tests of the callback side:
// Graph's notifications travelling, over loopback HTTP, through every real
// piece a bot wires together, with nothing stubbed but Microsoft itself.
//
//	graphtest.Server ──updateRecordingStatus──▶ graph.Client ◀── fsm.Machine (Start, Stop)
//	       │                                                        ▲
//	       └──POST signed commsNotifications──▶ callback.Handler ──▶ fsm.Registry
//	                                            (callback.Validator, keys from the
//	                                             fake's OpenID configuration)
//
// The fake Graph (graph/graphtest) answers the machine's requests, signs the
// notifications it POSTs with its own RSA key, and publishes that key
// through an OpenID configuration and JWKS, exactly where the Validator is
// told to look. The tests check what a production bot depends on:
//
//   - the pending flow: Start gets running, the gate stays closed until the
//     fake POSTs a signed completed, frames are persisted only then, Stop
//     drains the leases and runs the recording-ended hook before it reports
//     notRecording, and the fake's signed termination ends the machine and
//     takes it out of the registry;
//   - every forgery the fake can make (graphtest.Forgeries) is answered 401
//     and changes nothing; a genuine notification that names another call,
//     an older attempt, or a replayed token carrying another call's body is
//     acknowledged and changes nothing either;
//   - invariant P8 OnlyAuthenticConfirmation as a rapid property: for any
//     mix and order of genuine and forged notifications, the gate opens only
//     on a genuine completed that names the current attempt;
//   - the confirmation deadline: a pending attempt that hears nothing ends
//     with failed reported to Graph and the gate never opened, and a signed
//     completed that arrives afterwards is stale.
//
// The package has no code of its own besides this comment: everything lives
// in its _test.go files. Tests share one fake Graph, because generating its
// RSA keys takes long under the race detector; each test works on calls of
// its own. Every test runs under a watchdog that names the step that hung.
package endtoend
