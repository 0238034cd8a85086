package bus

import (
	"sync"

	"github.com/sshchat/sshchat/hub"
)

// Local is the bus of one node. Its methods are safe for concurrent use:
// every room's hub goroutine stamps through the same Local.
type Local struct {
	mu     sync.Mutex
	last   int              // guarded by mu: the last ID given
	log    chan<- hub.Event // guarded by mu; nil after Close
	closed bool             // guarded by mu
}

// NewLocal returns a bus whose next ID is lastID+1 (the event log's last
// ID: history.Log.LastID) and which sends every stamped event on log. log
// may be nil: events are then numbered and not logged.
func NewLocal(lastID int, log chan<- hub.Event) *Local {
	return &Local{last: lastID, log: log}
}

// Stamp gives ev the next ID and sends it to the log before it returns.
// It never fails.
// The send blocks while the log does not take it: the log's backpressure
// reaches every room, and the lock held across the send is what puts the
// events on the log channel in ID order. It is the hub.WithStamp function
// of every room's hub; the hub has already set the event's room and time.
//
// After Close, events are still numbered but no longer logged: Close
// comes after every hub that stamps through the bus has closed.
func (b *Local) Stamp(ev hub.Event) (hub.Event, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last++
	ev.ID = b.last
	if b.log != nil {
		b.log <- ev
	}
	return ev, nil
}

// LastID returns the last ID given, or lastID of NewLocal if none was.
func (b *Local) LastID() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// Close closes the log channel, which tells the log that no event follows
// (history.Log.Close waits for that). Call it once every room's hub has
// closed; a second call does nothing.
func (b *Local) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	if b.log != nil {
		close(b.log)
		b.log = nil
	}
}
