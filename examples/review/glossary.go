package main

// glossary explains, once each and in plain words, the terms the report
// uses.
func (r *report) glossary() {
	s := r.section("Words used here")
	for _, t := range [][2]string{
		{"gate", "the one door every piece of call media must pass to be saved. It is open only while Microsoft Graph has confirmed the recording; when it is closed, media is dropped, not saved."},
		{"lease", "a writer's permission to save one piece of media through the open gate. To stop, recgate closes the gate, then waits until every lease is given back, so no save is still running when Graph is told recording ended."},
		{"epoch", "a counter that goes up every time the gate closes. A request for permission remembers the epoch it began in; a late \"yes\" from an older epoch can never reopen the gate."},
		{"model checker", "a program that tries every possible order of events (the bot's requests, Graph's answers, writers saving media, the call ending) on the real code and checks the rules after each step, instead of trying a few examples."},
		{"property suite", "a test that plays many random calls (random answers from Graph, media on several streams, stops and restarts at random moments) and checks the rules on every event. A bot team runs it against its own bot."},
		{"K writers", "how many media writers save at the same time in the model checker's world (K = 1, 2, ...). More writers mean more possible orderings to try."},
		{"mutant (seeded bug)", "a copy of the code with one deliberate mistake put in, such as opening the gate before Graph answered. If a check does not catch a mutant, that check proves nothing about that mistake."},
		{"audit trail", "a file with one line per thing that happened (requests to Graph, its answers, the gate opening and closing), each line sealed with a fingerprint (SHA-256) of the line before it, so removing, changing or reordering a line is detected. The head is the fingerprint of the last line, kept elsewhere so that cutting lines off the end is detected too."},
	} {
		s.p("- **%s**: %s", t[0], t[1])
	}
	s.p("")
}
