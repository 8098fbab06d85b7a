// Package roundeight is an eighth set of bot wirings written from the
// user's side, to test recgate's property suite (package properties).
package roundeight
