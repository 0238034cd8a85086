package hub_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/sshchat/sshchat/hub"
)

type propOp struct {
	kind    string // add, remove, message, close
	user    int
	session int
	stall   int // for add: the reader stops after this many events until the end (-1: never)
}

type reader struct {
	userID, sessionID string
	sub               *hub.Subscription
	got               []hub.Event
}

// TestHubProperties drives random concurrent Add/Remove/Message/Rename/
// Drop/Close sequences, with some readers stalling so they fall behind or
// get evicted, and checks the hub's promises against what every reader
// and a listener saw: the listener gets every event; each reader gets its
// messages in order, all of them unless it was evicted (or left, or the
// hub closed, while it was behind); IDs increase; and nobody is evicted
// unless more messages than the bound waited for it, so no eviction (whose
// departure is presence) ever causes another.
func TestHubProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		buffer := rapid.IntRange(1, 8).Draw(rt, "buffer")
		maxBehind := rapid.IntRange(1, 8).Draw(rt, "maxBehind")
		flush := time.Duration(rapid.IntRange(1, 5).Draw(rt, "flushMillis")) * time.Millisecond
		nActors := rapid.IntRange(1, 4).Draw(rt, "actors")
		opGen := rapid.Custom(func(rt *rapid.T) propOp {
			return propOp{
				kind:    rapid.SampledFrom([]string{"add", "add", "remove", "message", "message", "message", "rename", "drop", "close"}).Draw(rt, "kind"),
				user:    rapid.IntRange(0, 3).Draw(rt, "user"),
				session: rapid.IntRange(0, 2).Draw(rt, "session"),
				stall:   rapid.IntRange(-1, 12).Draw(rt, "stall"),
			}
		})
		scripts := make([][]propOp, nActors)
		for i := range scripts {
			scripts[i] = rapid.SliceOfN(opGen, 1, 30).Draw(rt, fmt.Sprint("script", i))
		}

		// No eviction by time: the check below can then tell exactly why
		// each eviction happened.
		h := hub.New("prop", rapid.IntRange(0, 8).Draw(rt, "reqBuffer"), 16, hub.WithSubscriberBuffer(buffer),
			hub.WithMaxBehind(maxBehind), hub.WithMaxLag(time.Hour), hub.WithFlushInterval(flush))
		logCh := make(chan hub.Event, 64)
		h.AttachListener(logCh)
		var logged []hub.Event
		logDone := make(chan struct{})
		go func() {
			defer close(logDone)
			for ev := range logCh {
				logged = append(logged, ev)
			}
		}()

		gate := make(chan struct{}) // stalled readers wait here until the end
		var (
			mu      sync.Mutex // guards readers
			readers []*reader
			readWG  sync.WaitGroup
			actWG   sync.WaitGroup
		)
		for _, script := range scripts {
			actWG.Go(func() {
				for _, op := range script {
					userID := fmt.Sprint("u", op.user)
					sessionID := fmt.Sprint(userID, "/s", op.session)
					switch op.kind {
					case "add":
						sub, err := h.Subscribe(hub.Member{UserID: userID, SessionID: sessionID}, 0)
						if err != nil {
							if !errors.Is(err, hub.ErrAlreadyExists) && !errors.Is(err, hub.ErrClosed) {
								rt.Errorf("Subscribe: unexpected error %v", err)
							}
							continue
						}
						r := &reader{userID: userID, sessionID: sessionID, sub: sub}
						mu.Lock()
						readers = append(readers, r)
						mu.Unlock()
						readWG.Go(func() {
							for ev := range sub.Events() {
								r.got = append(r.got, ev)
								if len(r.got) == op.stall {
									<-gate
								}
							}
						})
					case "remove":
						if err := h.Remove(userID, sessionID); err != nil &&
							!errors.Is(err, hub.ErrNotFound) && !errors.Is(err, hub.ErrClosed) {
							rt.Errorf("Remove: unexpected error %v", err)
						}
					case "message":
						h.Message(userID, "hi")
					case "rename":
						if err := h.Rename(userID, fmt.Sprint("name", op.session)); err != nil &&
							!errors.Is(err, hub.ErrNotFound) && !errors.Is(err, hub.ErrClosed) {
							rt.Errorf("Rename: unexpected error %v", err)
						}
					case "drop":
						if err := h.Drop(userID, "dropped"); err != nil &&
							!errors.Is(err, hub.ErrNotFound) && !errors.Is(err, hub.ErrClosed) {
							rt.Errorf("Drop: unexpected error %v", err)
						}
					case "close":
						if err := h.Close(); err != nil && !errors.Is(err, hub.ErrClosed) {
							rt.Errorf("Close: unexpected error %v", err)
						}
					}
				}
			})
		}

		finished := make(chan struct{})
		go func() {
			actWG.Wait()
			if err := h.Close(); err != nil && !errors.Is(err, hub.ErrClosed) {
				rt.Errorf("final Close: %v", err)
			}
			close(gate)
			readWG.Wait()
			<-logDone
			close(finished)
		}()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			rt.Fatal("deadlock: the run did not finish")
		}

		checkLog(rt, logged)
		for _, r := range readers {
			checkReader(rt, r, logged, maxBehind)
		}
	})
}

// checkLog checks the listener's view: IDs from 1 without gaps, a close at
// the end, no roster event, and arrivals and departures that balance per
// user.
func checkLog(rt *rapid.T, logged []hub.Event) {
	if len(logged) == 0 || logged[len(logged)-1].Type != hub.EventTypeClose {
		rt.Fatalf("log does not end with close: %+v", logged)
	}
	online := map[string]map[string]bool{} // user → sessions
	for i, ev := range logged {
		if ev.ID != i+1 {
			rt.Fatalf("log event %d has ID %d, want %d", i, ev.ID, i+1)
		}
		sessions := online[ev.UserID]
		switch ev.Type {
		case hub.EventTypeRoster:
			rt.Fatalf("a roster event reached a listener: %+v", ev)
		case hub.EventTypeJoin, hub.EventTypeAdd:
			if wantJoin := len(sessions) == 0; wantJoin != (ev.Type == hub.EventTypeJoin) {
				rt.Fatalf("event %+v with %d sessions online", ev, len(sessions))
			}
			if sessions[ev.SessionID] {
				rt.Fatalf("session arrived twice: %+v", ev)
			}
			if sessions == nil {
				sessions = map[string]bool{}
				online[ev.UserID] = sessions
			}
			sessions[ev.SessionID] = true
		case hub.EventTypeRemove, hub.EventTypeLeave:
			if !sessions[ev.SessionID] {
				rt.Fatalf("departure of a session not online: %+v", ev)
			}
			if wantLeave := len(sessions) == 1; wantLeave != (ev.Type == hub.EventTypeLeave) {
				rt.Fatalf("event %+v with %d sessions online", ev, len(sessions))
			}
			delete(sessions, ev.SessionID)
			if len(sessions) == 0 {
				delete(online, ev.UserID)
			}
		}
	}
}

// counted reports whether ev is one a reader must get as it is, never
// folded into a roster event: anything but presence.
func counted(ev hub.Event) bool {
	switch ev.Type {
	case hub.EventTypeJoin, hub.EventTypeAdd, hub.EventTypeRemove, hub.EventTypeLeave,
		hub.EventTypeNick, hub.EventTypeAway, hub.EventTypeBack:
		return false
	}
	return true
}

// checkReader checks one subscriber's view: its own arrival first, IDs
// increasing, every event as the log has it (roster events aside, never
// two in a row), the counted events from the log in order (all of them
// when the stream ended with the close event), and an end that matches
// the reason it was given.
func checkReader(rt *rapid.T, r *reader, logged []hub.Event, maxBehind int) {
	if len(r.got) == 0 {
		rt.Fatalf("%s got no events, not even its arrival", r.sessionID)
	}
	first := r.got[0]
	if first.SessionID != r.sessionID || (first.Type != hub.EventTypeJoin && first.Type != hub.EventTypeAdd) {
		rt.Fatalf("%s: first event %+v is not its own arrival", r.sessionID, first)
	}
	var gotCounted []int
	for i, ev := range r.got {
		if i > 0 && ev.ID <= r.got[i-1].ID {
			rt.Fatalf("%s: ID %d after %d", r.sessionID, ev.ID, r.got[i-1].ID)
		}
		if ev.Type == hub.EventTypeRoster {
			if i > 0 && r.got[i-1].Type == hub.EventTypeRoster {
				rt.Fatalf("%s: two roster events in a row", r.sessionID)
			}
			if ev.UserID != r.userID {
				rt.Fatalf("%s: roster event %+v is not about its user", r.sessionID, ev)
			}
			continue
		}
		if ev != logged[ev.ID-1] {
			rt.Fatalf("%s: got %+v, the log has %+v", r.sessionID, ev, logged[ev.ID-1])
		}
		if i > 0 && counted(ev) && ev.Type != hub.EventTypeClose {
			gotCounted = append(gotCounted, ev.ID)
		}
	}
	last := r.got[len(r.got)-1]
	var departure hub.Event // the log's first departure of this session after its arrival
	for _, ev := range logged {
		if ev.ID > first.ID && ev.SessionID == r.sessionID &&
			(ev.Type == hub.EventTypeRemove || ev.Type == hub.EventTypeLeave) {
			departure = ev
			break
		}
	}
	end := logged[len(logged)-1].ID // the close, or the departure
	if departure.Type != "" {
		end = departure.ID
	}
	var want []int // the counted events it was subscribed for
	for _, ev := range logged[first.ID:max(end-1, first.ID)] {
		if hub.Visible(ev, r.userID, nil) && counted(ev) {
			want = append(want, ev.ID)
		}
	}
	if len(gotCounted) > len(want) || fmt.Sprint(gotCounted) != fmt.Sprint(want[:len(gotCounted)]) {
		rt.Fatalf("%s: got events %v, want a prefix of %v", r.sessionID, gotCounted, want)
	}
	switch err := r.sub.Err(); {
	case err == nil:
		if departure.Type == "" || departure.Reason != "" {
			rt.Fatalf("%s: stream ended without error but no plain departure was logged", r.sessionID)
		}
		if last.ID >= departure.ID {
			rt.Fatalf("%s: removed at ID %d but saw up to %d", r.sessionID, departure.ID, last.ID)
		}
	case err == hub.ErrClosed:
		if last.Type != hub.EventTypeClose {
			rt.Fatalf("%s: closed by the hub but last event is %+v", r.sessionID, last)
		}
		if len(gotCounted) != len(want) {
			rt.Fatalf("%s: saw the close but got events %v of %v", r.sessionID, gotCounted, want)
		}
	case errors.Is(err, hub.ErrClosed):
		if last.Type == hub.EventTypeClose {
			rt.Fatalf("%s: %v, yet it got the close event", r.sessionID, err)
		}
	case errors.Is(err, hub.ErrDropped):
		if departure.Reason != "dropped" {
			rt.Fatalf("%s: dropped, but its departure %+v does not say so", r.sessionID, departure)
		}
		if last.ID >= departure.ID {
			rt.Fatalf("%s: saw events up to %d after being dropped at %d", r.sessionID, last.ID, departure.ID)
		}
	case errors.Is(err, hub.ErrEvicted):
		if departure.Type == "" {
			rt.Fatalf("%s: evicted, but no departure was logged", r.sessionID)
		}
		if wantReason := fmt.Sprintf("evicted: more than %d messages behind", maxBehind); departure.Reason != wantReason {
			rt.Fatalf("%s: evicted, but its departure %+v does not say %q", r.sessionID, departure, wantReason)
		}
		// What it had not taken when evicted: more counted events than the
		// bound. Departures, an eviction's included, never count.
		missed := len(want) - len(gotCounted)
		if missed <= maxBehind {
			rt.Fatalf("%s: evicted with %d events undelivered, within the bound of %d", r.sessionID, missed, maxBehind)
		}
	default:
		rt.Fatalf("%s: unexpected Err %v", r.sessionID, err)
	}
}
