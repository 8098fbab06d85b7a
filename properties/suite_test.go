package properties

import (
	"testing"
)

func TestReferenceBotPassesTheSuite(t *testing.T) {
	Check(t, ReferenceBot)
}
