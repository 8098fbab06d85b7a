package userbots

import "github.com/recgate/recgate/properties"

// Bugs lists the buggy bots.
func Bugs() []Bug {
	nonin := []properties.Option{properties.WithNoninterference()}
	return []Bug{
		{Name: "SegmentOverlap", Rule: "R1", New: NewSegmentOverlap, Catches: []string{"P7"},
			Mistake: "stitches segments: the last frames written in one recording are written again at the start of the next"},
		{Name: "CaptionSidecar", Rule: "R1", New: NewCaptionSidecar, Catches: []string{"P7"},
			Mistake: "a metadata record on its own stream quotes the live caption shown when recording began, heard before consent"},
		{Name: "LastWords", Rule: "R1", New: NewLastWords, Catches: []string{"P7", "P1"},
			Mistake: "frames refused while Stop drains are kept and written by the recording-ended hook (or the next one)"},
		{Name: "HTTPOKIsConsent", Rule: "R1", New: NewHTTPOKIsConsent, Catches: []string{"P1", "P4"},
			Mistake: "hand-rolled: any 200 reply opens the gate (C#'s IsSuccessStatusCode), so notStarted/running count as consent"},
		{Name: "ResumeOnStopError", Rule: "R2", New: NewResumeOnStopError, Catches: []string{"P1", "P9"},
			Mistake: "hand-rolled: when notRecording fails, the gate opens again because Graph's indicator still says recording"},
		{Name: "AnyOwnContext", Rule: "R1", New: NewAnyOwnContext, Catches: []string{"P1", "P4", "P9"},
			Mistake: "hand-rolled: a completed notification opens the gate if its clientContext is any the bot ever sent, also after Stop"},
		{Name: "ReplyOutlivesEnd", Rule: "R1", New: NewReplyOutlivesEnd, Catches: []string{"P1", "P5", "P9"},
			Mistake: "hand-rolled: Start opens on completed without checking whether Stop or CallEnded closed the gate while the request was out"},
		{Name: "DisposeAfterReport", Rule: "R2", New: NewDisposeAfterReport, Catches: []string{"P1", "P2"},
			Mistake: "hand-rolled write-behind: Stop closes its batch writer in a defer, which runs after the return statement sent notRecording"},
		{Name: "TickerFlush", Rule: "R2", New: NewTickerFlush, Catches: []string{"P1", "P2", "P7"},
			Mistake: "frames admitted under a lease are written by a 2 ms ticker; the hook flushes storage, not the buffers"},
		{Name: "AsyncFlushOnHangup", Rule: "R1", New: NewAsyncFlushOnHangup, Catches: []string{"P1"},
			Mistake: "on CallEnded the recording-ended hook writes the last batch from a goroutine, after the end of the call was handled"},
		{Name: "BackgroundRetry", Rule: "protocol", New: NewBackgroundRetry, Catches: []string{"P3", "P5", "P7"},
			Mistake: "a failed Start is retried from a goroutine after a backoff, whatever the error: 8506, failed, a terminated call"},
		{Name: "RestartOnFailed", Rule: "protocol", New: NewRestartOnFailed, Catches: []string{"P3"},
			Mistake: "a failed notification for the pending recording makes the handler send recording again at once"},
		{Name: "CallIDAsContext", Rule: "protocol", New: NewCallIDAsContext, Catches: []string{"P10"},
			Mistake: "hand-rolled: the call ID is every request's clientContext, so requests are not unique and a stale notification matches the pending attempt"},
		{Name: "MachinePerStream", Rule: "protocol", New: NewMachinePerStream, Catches: []string{"P1", "P3", "P5", "P6"},
			Mistake: "one fsm.Machine per media stream for one call: recording and notRecording sent once per stream"},
		{Name: "EncryptedPreRoll", Rule: "R1", New: NewEncryptedPreRoll, Catches: []string{"P7"},
			Mistake: "pre-roll of the last frames before consent, in a bot whose storage is AES-CTR encrypted at rest",
			Limit:   "no canary survives encryption: the default suite fails the bot only as vacuous (no traced frame persisted), as it does a correct encrypting bot (EncryptedAtRest), and tells it to hand env.Sink the plaintext; WithNoninterference names the bug"},
		{Name: "EncryptedPreRollNoninterference", Rule: "R1", New: NewEncryptedPreRoll, Catches: []string{Interference}, Options: nonin,
			Mistake: "the same encrypted pre-roll, under WithNoninterference"},
		{Name: "TopicSummary", Rule: "R1", New: NewTopicSummary, Catches: []string{"P7"},
			Mistake: "the hook stores the call's topics (its most frequent words since the bot joined), derived from pre-consent speech",
			Limit:   "a topic is a word many frames share, never a frame's own canary, so no violation is named (documented); the run fails as vacuous on the summary's stream, where no frame is traced; WithNoninterference catches it"},
		{Name: "TopicSummaryNoninterference", Rule: "R1", New: NewTopicSummary, Catches: []string{Interference}, Options: nonin,
			Mistake: "the same topic summary, under WithNoninterference"},
		{Name: "TalkTimeNoninterference", Rule: "R1", New: NewTalkTime, Catches: []string{Interference}, Options: nonin,
			Mistake: "talk time since the call began (a byte count) written beside each frame; documented as untraceable by content, so only noninterference"},
	}
}

// Correct lists the correct bots.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "Manual", New: NewManual,
			What: "the hand-rolled C# port done right: close at once, wait for writes, flush, report; epochs; pending matched by clientContext"},
		{Name: "RetryingStop", New: NewRetryingStop,
			What: "calls Stop/Fail again after a 429/503/504 on the report, as fsm's docs say (the same request after a retryable reply)"},
		{Name: "UploadAtEnd", New: NewUploadAtEnd,
			What: "keeps the recording's frames (admitted under a lease) in memory and writes them in one piece from the recording-ended hook, also when the call ends"},
		{Name: "IntervalSummary", New: NewIntervalSummary,
			What: "writes, from the hook, a transcript of the frames admitted in that recording only (derived data, with the words, inside its interval)"},
		{Name: "HeaderTrailer", New: NewHeaderTrailer,
			What: "a header before the first frame of each recording and a length trailer written by the hook before the report"},
		{Name: "WriterPerStream", New: NewWriterPerStream,
			What: "a writer goroutine per stream; frames queued under a lease; the hook waits for a barrier in every queue"},
		{Name: "EmptyFlushOnClose", New: NewEmptyFlushOnClose,
			What: "Close calls Sink.Write with each stream's remaining buffer, which is always empty (zero bytes) by then"},
		{Name: "EncryptedAtRest", New: NewEncryptedAtRest,
			What:    "ReferenceBot's wiring with storage encrypted at rest: every frame written under a lease, as AES-CTR ciphertext",
			Vacuous: "no canary survives encryption: the suite cannot judge what it cannot read, says so, and tells the bot to hand env.Sink the plaintext"},
	}
}
