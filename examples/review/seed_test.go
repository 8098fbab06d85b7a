package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedPage finds the seed copy of the Graph page beside the checkout
// (../shared/seed from the repository's root), if it is there.
func seedPage(t *testing.T) string {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "seed", "call-updaterecordingstatus.ru.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("the seed page is not beside this checkout (%v): nothing to compare the quote with", err)
	}
	return string(raw)
}

// The quoted sentences are the page's own English text, verbatim, each in
// one sxs-lookup span.
func TestQuoteIsVerbatimInTheSeedPage(t *testing.T) {
	page := seedPage(t)
	for _, s := range []string{pageSentenceRestriction, pageSentenceEnd} {
		if !strings.Contains(page, `<span class="sxs-lookup">`) || !strings.Contains(page, `">`+s+`</span></span>`) {
			t.Errorf("not verbatim in an sxs-lookup span of the seed page: %q", s)
		}
	}
	if !strings.Contains(page, "<span class=\"sxs-lookup\"><span data-stu-id=\"4d1cb-103\">"+pageTitle+"</span>") {
		t.Errorf("the page's English title is not %q", pageTitle)
	}
}

// The address and version cited are the ones the page's front matter and
// request URL give.
func TestAddressMatchesTheSeedPage(t *testing.T) {
	page := seedPage(t)
	for _, want := range []string{"ms.contentlocale: ru-RU", `ms.locfileid: "43062583"`, "ms.lasthandoff: 03/31/2020",
		"https://graph.microsoft.com/v1.0/communications/calls/{id}/updateRecordingStatus"} {
		if !strings.Contains(page, want) {
			t.Errorf("the seed page lacks %q, from which the address or version was derived", want)
		}
	}
	if !strings.Contains(pageAddress, "/ru-ru/graph/api/call-updaterecordingstatus?view=graph-rest-1.0") {
		t.Errorf("pageAddress %q does not name the page, its locale and its version", pageAddress)
	}
}
