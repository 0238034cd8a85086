package sshserver

import (
	"net"
	"testing"
	"time"
)

// deadlineLog is a connection that records the deadlines set on it.
type deadlineLog struct {
	net.Conn
	calls []string
}

func (c *deadlineLog) SetDeadline(t time.Time) error {
	c.calls = append(c.calls, "both "+stamp(t))
	return nil
}

func (c *deadlineLog) SetReadDeadline(t time.Time) error {
	c.calls = append(c.calls, "read "+stamp(t))
	return nil
}

func (c *deadlineLog) SetWriteDeadline(t time.Time) error {
	c.calls = append(c.calls, "write "+stamp(t))
	return nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return "set"
}

func TestQuietDeadlines(t *testing.T) {
	log := &deadlineLog{}
	c := &quietDeadlines{Conn: log}
	at := time.Now().Add(time.Minute)
	steps := []struct {
		do   func()
		want string // the call that reaches the connection, or ""
	}{
		{func() { _ = c.SetDeadline(time.Time{}) }, ""}, // nothing set: nothing to clear
		{func() { _ = c.SetDeadline(time.Time{}) }, ""},
		{func() { _ = c.SetDeadline(at) }, "both set"},
		{func() { _ = c.SetDeadline(at) }, "both set"},
		{func() { _ = c.SetDeadline(time.Time{}) }, "both none"}, // clears it
		{func() { _ = c.SetDeadline(time.Time{}) }, ""},
		{func() { _ = c.SetReadDeadline(at) }, "read set"},
		{func() { _ = c.SetDeadline(time.Time{}) }, "both none"}, // clears the read deadline
		{func() { _ = c.SetWriteDeadline(at) }, "write set"},
		{func() { _ = c.SetWriteDeadline(time.Time{}) }, "write none"},
		{func() { _ = c.SetDeadline(time.Time{}) }, "both none"}, // may still hold one: passed on
		{func() { _ = c.SetDeadline(time.Time{}) }, ""},
	}
	for i, step := range steps {
		before := len(log.calls)
		step.do()
		got := ""
		if len(log.calls) > before {
			got = log.calls[len(log.calls)-1]
		}
		if got != step.want {
			t.Errorf("step %d: the connection got %q, want %q", i, got, step.want)
		}
	}
}
