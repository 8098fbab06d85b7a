package graph

import "time"

// NotificationKind says what a notification from Graph is about.
type NotificationKind int

// The kinds of notification recgate acts on.
const (
	// NotificationOperation: an updateRecordingStatusOperation changed
	// (resourceUrl /communications/calls/{id}/operations/{opId}); the new
	// state is in Notification.Operation.
	NotificationOperation NotificationKind = iota + 1
	// NotificationCallEnded: the call was terminated or deleted
	// (resourceUrl /communications/calls/{id}).
	NotificationCallEnded
)

// String is the kind's name.
func (k NotificationKind) String() string {
	switch k {
	case NotificationOperation:
		return "operation"
	case NotificationCallEnded:
		return "callEnded"
	}
	return "NotificationKind(?)"
}

// Notification is one authenticated item of a commsNotifications POST that
// Graph sent to the bot's callback URL, as the callback handler hands it on
// (package graph/callback parses and authenticates it). Nothing builds one
// from an unauthenticated request.
type Notification struct {
	Kind NotificationKind // an operation update or the call's end
	// CallID is the call named by ResourceURL.
	CallID string
	// Operation is the operation's new state (NotificationOperation only).
	// Its ID is taken from ResourceURL when the body has none.
	Operation Operation
	// ChangeType and ResourceURL are the notification's own fields.
	ChangeType  string
	ResourceURL string
	// Issuer and Tenant are the validated token's iss and tid claims: who
	// vouched for this notification.
	Issuer string
	Tenant string
	// Received is when the handler accepted the request.
	Received time.Time
}
