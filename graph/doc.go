// Package graph is the Microsoft Graph side of recgate: the wire types of the
// updateRecordingStatus action and the errors Graph returns.
//
// The action is
//
//	POST {base}/communications/calls/{id}/updateRecordingStatus
//	{"clientContext": "...", "status": "notRecording" | "recording" | "failed"}
//
// and Graph answers with an updateRecordingStatusOperation. Only an operation
// whose status is completed is a success reply in the sense of the API's terms:
// notStarted, running or a missing status means "pending" (the outcome comes
// later as a notification), and failed is a refusal. [OperationStatus.Confirmed]
// and [OperationStatus.Pending] encode that reading so no caller has to.
//
// Real services spell enum values in camelCase or PascalCase ("completed" and
// "Completed"), so every enum here parses case-insensitively; an unknown value
// is an error, never a success.
//
// Errors: a non-2xx reply is a [*Error] (find it with errors.As); an operation
// that Graph reports as failed is an [*OperationError], which matches
// [ErrOperationFailed] with errors.Is.
//
// This package knows nothing of the compliance machine in package fsm; fsm
// depends on it, never the other way round.
package graph
