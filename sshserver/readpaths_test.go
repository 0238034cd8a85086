package sshserver

import (
	"testing"

	"github.com/sshchat/sshchat/internal/readguard"
)

// TestEveryEventReadIsFiltered is the structural half of the privacy
// rule for the screens: a new read path that does not go through
// hub.Visible fails here, before any test of its output is written. The
// script commands' paths are guarded in package chat.
func TestEveryEventReadIsFiltered(t *testing.T) {
	readguard.Check(t, ".", 2) // handle's backlog, pump's stream
}
