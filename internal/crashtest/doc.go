// Package crashtest proves recgate's crash recovery with real faults. It
// has no code of its own, only a test: the test process is a fake Graph
// (graph/graphtest on loopback, plain HTTP) that outlives the bot; the
// bot (examples/bot in its -crash-safe-dir mode, built once into a
// temporary directory) runs as a child process that the test kills with
// SIGKILL at drawn points: during a frame's write (half of it on disk),
// during Start's request, right after Graph's reply to it, after the
// leases drained and before the files were synced, before notRecording is
// sent, at a random acknowledged frame (the bot running on), and in the
// middle of a recovery. Each restart recovers its predecessor before it
// records again.
//
// At the end the test checks, from the fake's request log, the journal
// and the media files: every persisted frame arrived inside a confirmed
// interval; Graph got failed or notRecording for every interrupted
// recording before any new recording; every trail verifies and a further
// recovery finds nothing to do; every frame the bot acknowledged (printed
// after its write returned and the file was synced) is on disk; no file
// ends in a torn frame.
//
// A second test plays two bots on one journal, as a rolling deploy that
// overlaps them would: while the first records, the second must exit with
// the journal's ErrJournalInUse (naming the first one's pid) and touch
// nothing (no request to Graph, no media file sealed, no trail moved);
// after the first is SIGKILLed and reaped, the next bot recovers it.
//
//	go test ./internal/crashtest -kills 100 -seed 7
package crashtest
