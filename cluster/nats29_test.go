package cluster

import (
	"testing"

	"github.com/sshchat/sshchat/internal/natstest"
)

// TestNATSServer29 runs the package's scenarios against a nats-server
// process: Debian's 2.9.10 here and in CI.
func TestNATSServer29(t *testing.T) {
	p := natstest.RunProcess(t)
	t.Run("publish and consume", func(t *testing.T) { testPublishConsume(t, p.URL()) })
	t.Run("gaps", func(t *testing.T) { testGaps(t, p.URL()) })
	t.Run("crashed node gone once", func(t *testing.T) { testCrashGoneOnce(t, p.URL()) })
	t.Run("fenced when key deleted", func(t *testing.T) { testFencedWhenKeyDeleted(t, p.URL()) })
	t.Run("host key", func(t *testing.T) { testHostKey(t, p.URL()) })
	t.Run("consumer resumes after a restart", func(t *testing.T) { testResume(t, p.URL(), p.Stop, p.Start) })
}
