package sshserver

import (
	"errors"
	"io"
	"sync"
	"time"
)

var errTooSlow = errors.New("the connection is too slow: output piled up")

// keepBuffer is the largest buffer an idle outbox keeps for reuse; bigger
// ones (a full repaint of a large screen) go back to the garbage collector.
const keepBuffer = 8 << 10

// outbox sends what a session's program writes to the client from its own
// goroutine, so that a client which stops reading never blocks the program
// (nor, through it, the pump and the hub). Output queues up to limit bytes
// behind the write in progress; past that the client is too slow, Write
// fails and tooSlow is called once, which is expected to close the
// connection.
type outbox struct {
	w       io.Writer
	limit   int
	tooSlow func()
	wake    chan struct{} // capacity 1: "there is something to do"
	done    chan struct{} // closed when run has ended

	mu      sync.Mutex
	pending []byte // guarded by mu
	spare   []byte // guarded by mu; the other buffer, reused
	closed  bool   // guarded by mu
	err     error  // guarded by mu
}

func newOutbox(w io.Writer, limit int, tooSlow func()) *outbox {
	o := &outbox{w: w, limit: limit, tooSlow: tooSlow, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go o.run()
	return o
}

// Write queues p. It never blocks on the network.
func (o *outbox) Write(p []byte) (int, error) {
	o.mu.Lock()
	switch {
	case o.err != nil:
		err := o.err
		o.mu.Unlock()
		return 0, err
	case o.closed:
		o.mu.Unlock()
		return 0, io.ErrClosedPipe
	case len(o.pending) > 0 && len(o.pending)+len(p) > o.limit:
		// Output piles up behind what is being sent. (One write on its own
		// may be larger than the limit: a full repaint of a big screen.)
		o.err = errTooSlow
		o.mu.Unlock()
		o.tooSlow()
		return 0, errTooSlow
	}
	o.pending = append(o.pending, p...)
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

// Close lets run send what is queued and end; wait with Wait.
func (o *outbox) Close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Wait returns when run has ended.
func (o *outbox) Wait() { <-o.done }

// Finish closes the outbox and waits for what is queued to be sent, for at
// most timeout; then it calls cut (which is expected to close the
// connection, ending the write in progress) and waits for run to end.
func (o *outbox) Finish(timeout time.Duration, cut func()) {
	o.Close()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-o.done:
	case <-t.C:
		cut()
		<-o.done
	}
}

// Err is why output stopped, if it did.
func (o *outbox) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

func (o *outbox) run() {
	defer close(o.done)
	for range o.wake {
		for {
			o.mu.Lock()
			out, closed := o.pending, o.closed
			o.pending = o.spare[:0]
			o.spare = nil
			o.mu.Unlock()
			if len(out) == 0 {
				if closed {
					return
				}
				break
			}
			if _, err := o.w.Write(out); err != nil {
				o.mu.Lock()
				if o.err == nil {
					o.err = err
				}
				o.mu.Unlock()
				return
			}
			o.mu.Lock()
			if cap(out) <= keepBuffer {
				o.spare = out[:0]
			}
			o.mu.Unlock()
		}
	}
}
