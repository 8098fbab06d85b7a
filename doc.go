// Package recgate is the root of the recgate module. The library lives in
// its packages: fsm (the compliance machine and the persist gate) and graph
// (the Microsoft Graph side). See README.md for the rule they enforce.
package recgate
