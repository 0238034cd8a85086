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
	readguard.Check(t, ".", 2) // history, tail
}
