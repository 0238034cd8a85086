package sshserver

import (
	"net"
	"sync"
	"sync/atomic"
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

// heldConn is a connection whose reads can be held back: while they are,
// nothing the client sends is read, and its writes wait (TCP flow
// control). It holds a connection that opens session channels faster
// than its pace (see sessionChannel): the SSH library starts a goroutine
// for each channel opened, so the channels themselves cannot be made to
// wait, but the connection they come on can.
type heldConn struct {
	net.Conn
	until     atomic.Int64 // Unix nanoseconds: reads wait until then
	closed    chan struct{}
	closeOnce sync.Once
}

func newHeldConn(c net.Conn) *heldConn { return &heldConn{Conn: c, closed: make(chan struct{})} }

// hold has reads wait until t, or later if they already do.
func (c *heldConn) hold(t time.Time) {
	for {
		old := c.until.Load()
		if t.UnixNano() <= old || c.until.CompareAndSwap(old, t.UnixNano()) {
			return
		}
	}
}

// Read waits while the connection is held, or until it is closed.
func (c *heldConn) Read(p []byte) (int, error) {
	if u := c.until.Load(); u != 0 { // 0: never held
		if d := time.Until(time.Unix(0, u)); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-c.closed:
				t.Stop()
				return 0, net.ErrClosed
			}
		}
	}
	return c.Conn.Read(p)
}

func (c *heldConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}
