package sshserver

import (
	"sync"

	"github.com/sshchat/sshchat/chat"
	"github.com/sshchat/sshchat/hub"
)

// streams is where a session's events come from: the subscription of
// every room it is in, and the one of its direct messages. Every hub
// wakes the session's pump on one channel (hub.WithNotify), and the pump
// takes what each stream holds without blocking: a session in twenty
// rooms has one goroutine reading them, not twenty, and a room costs it
// an entry here.
type streams struct {
	notify  chan struct{}          // capacity 1: the hubs, and enter, wake the pump
	userID  string                 // whose events they are
	ignored func() map[string]bool // the users userID ignores, as of now

	mu      sync.Mutex
	entered []roomStream // guarded by mu: rooms entered and not yet read

	rooms []roomStream // owned by the pump, in the order entered
	next  int          // owned by the pump: the room the next collect starts with
}

// roomStream is one room's subscription.
type roomStream struct {
	info  chat.RoomInfo
	sub   *hub.Subscription
	ended bool // its stream is closed: collect returns it
}

func newStreams(userID string, ignored func() map[string]bool) *streams {
	return &streams{notify: make(chan struct{}, 1), userID: userID, ignored: ignored}
}

// subscribeOption makes the hubs wake the pump: every subscription of the
// session is made with it.
func (st *streams) subscribeOption() hub.SubscribeOption { return hub.WithNotify(st.notify) }

// enter hands the pump the subscription of a room the session is now in.
// It never blocks: the core calls it in the middle of a command.
func (st *streams) enter(info chat.RoomInfo, sub *hub.Subscription) {
	st.mu.Lock()
	st.entered = append(st.entered, roomStream{info: info, sub: sub})
	st.mu.Unlock()
	st.wake()
}

// wake makes the pump look at the streams, unless it will already.
func (st *streams) wake() {
	select {
	case st.notify <- struct{}{}:
	default:
	}
}

// take returns the rooms entered since it was last called, which the pump
// then reads (add).
func (st *streams) take() []roomStream {
	st.mu.Lock()
	defer st.mu.Unlock()
	e := st.entered
	st.entered = nil
	return e
}

// add starts reading a room's stream.
func (st *streams) add(r roomStream) { st.rooms = append(st.rooms, r) }

// collect takes what the streams hold, without waiting, keeping what the
// user may see (hub.Visible, with the ignores as of each event: an
// /ignore takes effect from the next event on), until it has taken limit
// events. It starts each time with the room after the one it started
// with last, so that a busy room does not starve the others. A stream
// that ended is read no more, and returned. When it stops at the limit
// it wakes the pump again, for the rest.
func (st *streams) collect(limit int, keep func(hub.Event)) (ended []roomStream) {
	taken, closed := 0, 0
	n := len(st.rooms)
	for k := range n {
		i := (st.next + k) % n
		events := st.rooms[i].sub.Events()
	stream:
		for taken < limit {
			select {
			case ev, ok := <-events:
				if !ok {
					st.rooms[i].ended = true
					closed++
					break stream
				}
				taken++
				if hub.Visible(ev, st.userID, st.ignored()) {
					keep(ev)
				}
			default:
				break stream
			}
		}
		if taken >= limit {
			st.wake()
			break
		}
	}
	if n > 0 {
		st.next = (st.next + 1) % n
	}
	if closed == 0 {
		return nil
	}
	kept := st.rooms[:0]
	for _, r := range st.rooms {
		if r.ended {
			ended = append(ended, r)
		} else {
			kept = append(kept, r)
		}
	}
	clear(st.rooms[len(kept):])
	st.rooms = kept
	return ended
}

// stop reads no stream any more: the session is ending.
func (st *streams) stop() { st.rooms = nil }
