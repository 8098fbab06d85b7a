// Package botrounds is what the rounds of user-side bots (internal/
// roundthree to internal/roundsix) share: the rows of their tables (Bug,
// CorrectBot) and the tests every round runs on them, so that a round
// holds only its bots and their diagnoses.
//
// Each round's tests call CheckBugs, CheckCorrect and CheckTable on its
// Bugs() and Correct(), Measure behind the MEASURE and RUNS variables,
// and Main from their TestMain. A row marks what the suite gets wrong
// today (Miss, Unreliable, FalseAlarm): its test still asserts the right
// verdict and skips with the diagnosis, so a package stays green, the
// problem stays in sight, and the test fails once the suite is fixed,
// until the mark is removed.
//
// Nothing outside recgate's own tests should import this package.
package botrounds
