package sshserver

import (
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

var errTooSlow = errors.New("the connection is too slow: output piled up")

// keepBuffer is the largest buffer that goes back to the pool; bigger
// ones (a full repaint of a large screen) go back to the garbage collector.
const keepBuffer = 16 << 10

// outbox sends what a session writes to the client from a goroutine of its
// own, so that a client which stops reading never blocks the writer (nor,
// through it, the program, the pump and the hub). Output queues up to
// limit bytes behind the write in progress; past that the client is too
// slow, Write fails and tooSlow is called once, which is expected to close
// the connection.
//
// The sending goroutine runs only while there is something to send, and
// the buffer only while it holds something: an idle session keeps
// neither. Buffers come from bufs, which the sessions share.
type outbox struct {
	w       io.Writer
	limit   int
	tooSlow func()
	bufs    *sync.Pool // of *[]byte

	mu      sync.Mutex
	pending *[]byte       // guarded by mu; what waits behind the write in progress, or nil
	sending chan struct{} // guarded by mu; while a send goroutine runs, closed when it ends
	closed  bool          // guarded by mu
	err     error         // guarded by mu

	hurry atomic.Bool // the next Write lets its send run first: see Hurry
}

// newBufferPool returns the pool the outboxes of a server share.
func newBufferPool() *sync.Pool {
	return &sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}
}

func newOutbox(w io.Writer, limit int, bufs *sync.Pool, tooSlow func()) *outbox {
	return &outbox{w: w, limit: limit, bufs: bufs, tooSlow: tooSlow}
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
	case o.pending != nil && len(*o.pending)+len(p) > o.limit:
		// Output piles up behind what is being sent. (One write on its own
		// may be larger than the limit: a full repaint of a big screen.)
		o.err = errTooSlow
		o.mu.Unlock()
		o.tooSlow()
		return 0, errTooSlow
	}
	if o.pending == nil {
		o.pending = o.bufs.Get().(*[]byte)
	}
	*o.pending = append(*o.pending, p...)
	var sending chan struct{}
	if o.sending == nil {
		sending = make(chan struct{})
		o.sending = sending
	}
	o.mu.Unlock()
	hurry := o.hurry.Swap(false)
	if sending != nil {
		go o.send(sending)
		if hurry {
			// The send goroutine is next to run on this P; yielding
			// puts it before the goroutines already waiting.
			runtime.Gosched()
		}
	}
	return len(p), nil
}

// Hurry asks the next Write to let its output go out before the writer
// goes on. When one event wakes every screen of a room at once, each
// frame's send would otherwise queue behind the drawing of all the other
// screens: with a hundred screens the first frame left only after all
// were drawn. Hurry is for those frames only: a paced frame falls on no
// one else's instant, gains nothing from the yield and pays for it.
func (o *outbox) Hurry() { o.hurry.Store(true) }

// send writes what is pending until nothing is, then ends.
func (o *outbox) send(done chan struct{}) {
	defer close(done)
	for {
		o.mu.Lock()
		out := o.pending
		o.pending = nil
		if out == nil {
			o.sending = nil
			o.mu.Unlock()
			return
		}
		o.mu.Unlock()

		_, err := o.w.Write(*out)
		o.put(out)
		if err != nil {
			o.mu.Lock()
			if o.err == nil {
				o.err = err
			}
			if o.pending != nil {
				o.put(o.pending)
				o.pending = nil
			}
			o.sending = nil
			o.mu.Unlock()
			return
		}
	}
}

func (o *outbox) put(b *[]byte) {
	if cap(*b) <= keepBuffer {
		*b = (*b)[:0]
		o.bufs.Put(b)
	}
}

// Close refuses further writes; what is queued is still sent: wait for it
// with Wait.
func (o *outbox) Close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
}

// Wait returns when nothing is being sent.
func (o *outbox) Wait() {
	o.mu.Lock()
	sending := o.sending
	o.mu.Unlock()
	if sending != nil {
		<-sending
	}
}

// Finish closes the outbox and waits for what is queued to be sent, for at
// most timeout; then it calls cut (which is expected to close the
// connection, ending the write in progress) and waits for the sending to
// end.
func (o *outbox) Finish(timeout time.Duration, cut func()) {
	o.Close()
	o.mu.Lock()
	sending := o.sending
	o.mu.Unlock()
	if sending == nil {
		return
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-sending:
	case <-t.C:
		cut()
		<-sending
	}
}

// Err is why output stopped, if it did.
func (o *outbox) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}
