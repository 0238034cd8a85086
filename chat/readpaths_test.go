package chat

import (
	"testing"

	"github.com/sshchat/sshchat/internal/readguard"
)

// TestEveryEventReadIsFiltered is the structural half of the privacy
// rule: every function of the core that takes events from the room (the
// history, a stream) passes them through hub.Visible. A new read path
// that does not fails here, before any test of its output is written.
func TestEveryEventReadIsFiltered(t *testing.T) {
	unfiltered, reads, err := readguard.Unfiltered(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range unfiltered {
		t.Error(u)
	}
	if reads < 2 { // history, tail
		t.Errorf("found %d reads of events, want at least 2: is the guard still looking?", reads)
	}
}
