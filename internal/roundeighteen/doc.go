// Package roundeighteen is an eighteenth set of bot wirings written from
// the user's side against recgate's property suite (package properties),
// by an outside team whose frame path is right and whose Stop side, Fail
// side or end of call is not.
//
// (First draft; the rates and the lesson follow.)
//
// The bots are wrong on purpose: nothing outside recgate's own tests
// should import this package.
package roundeighteen
