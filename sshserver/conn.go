package sshserver

import (
	"net"
	"sync"
	"time"
)

// quietDeadlines is a connection on which clearing a deadline that is not
// set costs nothing. The SSH library sets the connection's deadline
// before every read and every write, to none when no idle or total
// timeout is configured: a lock of the poller and its timers each time,
// 2 % of a busy server's CPU, to change nothing.
type quietDeadlines struct {
	net.Conn

	mu  sync.Mutex
	set bool // guarded by mu: a deadline may be set on Conn
}

func (c *quietDeadlines) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.IsZero() && !c.set {
		return nil
	}
	c.set = !t.IsZero()
	return c.Conn.SetDeadline(t)
}

func (c *quietDeadlines) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set = c.set || !t.IsZero()
	return c.Conn.SetReadDeadline(t)
}

func (c *quietDeadlines) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set = c.set || !t.IsZero()
	return c.Conn.SetWriteDeadline(t)
}
