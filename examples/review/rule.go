package main

// The page the rule comes from. The seed copy recgate was built from is a
// Russian machine translation of Microsoft Graph's "call:
// updateRecordingStatus" page that keeps the English source sentences in
// its sxs-lookup spans; the sentences below are copied from those spans
// verbatim (seed_test.go checks it when the seed page is beside the
// checkout). The file names no URL of its own: the address is the page's
// Microsoft Learn address, built from its file name
// (call-updaterecordingstatus), its locale (ms.contentlocale ru-RU) and
// its API version (the v1.0 of its request URL).
const (
	pageTitle   = "call: updateRecordingStatus"
	pageAddress = "https://learn.microsoft.com/ru-ru/graph/api/call-updaterecordingstatus?view=graph-rest-1.0"
	// pageEnglishAddress is the same page in English, which may have
	// changed since the copy quoted here.
	pageEnglishAddress = "https://learn.microsoft.com/en-us/graph/api/call-updaterecordingstatus?view=graph-rest-1.0"
	// pageVersion identifies the copy: its front matter.
	pageVersion = "ms.locfileid 43062583, ms.lasthandoff 03/31/2020"

	pageSentenceRestriction = `**Additional Restriction**: You may NOT use the Media Access API to record or otherwise persist media content from calls or meetings that your application accesses, or data derived from that media content ("record" or "recording"), without first calling the **updateRecordingStatus** API to indicate that recording has begun, and receiving a success reply from that API.`
	pageSentenceEnd         = `If your application begins recording any meeting, it must end the recording prior to calling the **updateRecordingStatus** API to indicate that the recording has ended.`
)

func (r *report) rule() {
	s := r.section("The rule")
	s.p("Microsoft Graph's page for `%s` (%s; copy of %s; English original: %s) says, word for word:", pageTitle, pageAddress, pageVersion, pageEnglishAddress)
	s.p("")
	s.p("> %s %s", pageSentenceRestriction, pageSentenceEnd)
	s.p("")
	s.p("### recgate's reading of it")
	s.p("")
	s.p("*This is recgate's reading, not Microsoft's text.*")
	s.p("")
	s.p("- **R1.** The bot may not persist media of a call, or data derived from it, until it has called updateRecordingStatus with `recording` and received a success reply.")
	s.p("- **R2.** If the bot began recording, it must end the recording (every write finished, files flushed and closed) before it calls updateRecordingStatus with `notRecording`. recgate applies the same order to `failed`, which the page does not mention.")
	s.p("- **What counts as success.** Only a reply (or a later notification about it) whose operation status is `completed`. `notStarted`, `running` or no status means the answer is still pending; `failed` is a refusal; an HTTP error is no reply at all. The page does not define \"success reply\"; this is recgate's reading of the operation's documented statuses.")
	s.p("")
}
