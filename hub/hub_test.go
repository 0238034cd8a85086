package hub_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sshchat/sshchat/hub"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// timeout bounds every wait in these tests; a hub that deadlocks fails the
// test instead of hanging it.
const timeout = 30 * time.Second

func newHub(t *testing.T, opts ...hub.Option) *hub.Hub {
	t.Helper()
	h := hub.New("lobby", 16, 64, opts...)
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// next receives one event or fails the test.
func next(t *testing.T, ch <-chan hub.Event) hub.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream closed, want an event")
		}
		return ev
	case <-time.After(timeout):
		t.Fatal("no event within timeout")
	}
	return hub.Event{}
}

// drain receives until the stream is closed and returns what it got.
func drain(t *testing.T, ch <-chan hub.Event) []hub.Event {
	t.Helper()
	var got []hub.Event
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, ev)
		case <-deadline:
			t.Fatalf("stream not closed within timeout; got %d events", len(got))
		}
	}
}

type brief struct {
	Type, UserID, SessionID string
}

func briefOf(ev hub.Event) brief { return brief{ev.Type, ev.UserID, ev.SessionID} }

func TestArrivalAndDeparture(t *testing.T) {
	tests := []struct {
		name  string
		steps func(t *testing.T, h *hub.Hub)
		want  []brief // as seen by an observer subscribed first
	}{
		{
			name: "first session joins, second adds",
			steps: func(t *testing.T, h *hub.Hub) {
				mustAdd(t, h, "ann", "a1")
				mustAdd(t, h, "ann", "a2")
			},
			want: []brief{{"join", "ann", "a1"}, {"add", "ann", "a2"}},
		},
		{
			name: "removing a non-last session is remove, the last is leave",
			steps: func(t *testing.T, h *hub.Hub) {
				mustAdd(t, h, "ann", "a1")
				mustAdd(t, h, "ann", "a2")
				mustRemove(t, h, "ann", "a2")
				mustRemove(t, h, "ann", "a1")
			},
			want: []brief{{"join", "ann", "a1"}, {"add", "ann", "a2"}, {"remove", "ann", "a2"}, {"leave", "ann", "a1"}},
		},
		{
			name: "a user who left joins again",
			steps: func(t *testing.T, h *hub.Hub) {
				mustAdd(t, h, "ann", "a1")
				mustRemove(t, h, "ann", "a1")
				mustAdd(t, h, "ann", "a3")
			},
			want: []brief{{"join", "ann", "a1"}, {"leave", "ann", "a1"}, {"join", "ann", "a3"}},
		},
		{
			name: "messages carry the sender and no session",
			steps: func(t *testing.T, h *hub.Hub) {
				mustAdd(t, h, "ann", "a1")
				h.Message("ann", "hi")
			},
			want: []brief{{"join", "ann", "a1"}, {"message", "ann", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHub(t)
			obs := mustAdd(t, h, "observer", "o1")
			if got := next(t, obs); got.Type != hub.EventTypeJoin || got.UserID != "observer" {
				t.Fatalf("observer's first event = %+v, want its own join", got)
			}
			tt.steps(t, h)
			for i, want := range tt.want {
				if got := briefOf(next(t, obs)); got != want {
					t.Errorf("event %d = %+v, want %+v", i, got, want)
				}
			}
		})
	}
}

func TestNewSubscriberSeesItsOwnArrival(t *testing.T) {
	h := newHub(t)
	mustAdd(t, h, "ann", "a1")
	ch := mustAdd(t, h, "ann", "a2")
	if got, want := briefOf(next(t, ch)), (brief{"add", "ann", "a2"}); got != want {
		t.Fatalf("first event = %+v, want %+v", got, want)
	}
}

func TestRemoveClosesTheStreamWithoutError(t *testing.T) {
	h := newHub(t)
	sub, err := h.Subscribe(hub.Member{UserID: "ann", SessionID: "a1"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	mustRemove(t, h, "ann", "a1")
	got := drain(t, sub.Events())
	if len(got) != 1 || got[0].Type != hub.EventTypeJoin {
		t.Fatalf("stream = %+v, want just its join", got)
	}
	if sub.Err() != nil {
		t.Fatalf("Err() = %v, want nil after Remove", sub.Err())
	}
}

func TestErrors(t *testing.T) {
	h := newHub(t)
	mustAdd(t, h, "ann", "a1")
	if _, err := h.Add("ann", "a1"); !errors.Is(err, hub.ErrAlreadyExists) {
		t.Errorf("second Add of one session: err = %v, want ErrAlreadyExists", err)
	}
	if err := h.Remove("ann", "nope"); !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("Remove of an unknown session: err = %v, want ErrNotFound", err)
	}
	if err := h.Remove("bob", "a1"); !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("Remove under another user: err = %v, want ErrNotFound", err)
	}
}

func TestClose(t *testing.T) {
	h := hub.New("lobby", 4, 8)
	a := mustSubscribe(t, h, "ann", "a1")
	b := mustSubscribe(t, h, "bob", "b1")
	l := make(chan hub.Event, 16)
	h.AttachListener(l)

	if err := h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, sub := range []*hub.Subscription{a, b} {
		got := drain(t, sub.Events())
		if last := got[len(got)-1]; last.Type != hub.EventTypeClose {
			t.Errorf("last event = %+v, want close", last)
		}
		if !errors.Is(sub.Err(), hub.ErrClosed) {
			t.Errorf("Err() = %v, want ErrClosed", sub.Err())
		}
	}
	if got := drain(t, l); len(got) != 1 || got[0].Type != hub.EventTypeClose {
		t.Errorf("listener got %+v, want one close event", got)
	}

	if _, err := h.Add("carl", "c1"); !errors.Is(err, hub.ErrClosed) {
		t.Errorf("Add after Close: %v, want ErrClosed", err)
	}
	if err := h.Remove("ann", "a1"); !errors.Is(err, hub.ErrClosed) {
		t.Errorf("Remove after Close: %v, want ErrClosed", err)
	}
	if err := h.Close(); !errors.Is(err, hub.ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	returned := make(chan struct{})
	go func() {
		for range 1000 { // more than the request buffer holds
			h.Message("ann", "into the void")
		}
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(timeout):
		t.Fatal("Message blocked after Close")
	}
	late := make(chan hub.Event)
	h.AttachListener(late)
	if _, ok := <-late; ok {
		t.Error("listener attached after Close was not closed")
	}
}

func TestConcurrentCloseSucceedsOnce(t *testing.T) {
	h := hub.New("lobby", 0, 0)
	errs := make(chan error, 8)
	for range 8 {
		go func() { errs <- h.Close() }()
	}
	var ok int
	for range 8 {
		if err := <-errs; err == nil {
			ok++
		} else if !errors.Is(err, hub.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d Close calls succeeded, want 1", ok)
	}
}

func TestReaderThatNeverReadsIsEvictedByTheBound(t *testing.T) {
	const buffer, maxBehind = 4, 8
	h := newHub(t, hub.WithSubscriberBuffer(buffer), hub.WithMaxBehind(maxBehind))
	slow := mustSubscribe(t, h, "slow", "s1")
	fast := mustAdd(t, h, "fast", "f1")

	// fast reads as it goes; slow never reads.
	fastGot := []hub.Event{next(t, fast)} // its own join
	var leave hub.Event
	for i := 0; leave.Type == ""; i++ {
		if i > 10*maxBehind {
			t.Fatalf("slow not evicted after %d messages", i)
		}
		h.Message("fast", fmt.Sprint(i))
		for ev := next(t, fast); ; ev = next(t, fast) {
			fastGot = append(fastGot, ev)
			if ev.UserID == "slow" && ev.Type == hub.EventTypeLeave {
				leave = ev
			}
			if ev.Type == hub.EventTypeMessage {
				break
			}
		}
		if st := h.Stats(); st.MaxQueued > 2*maxBehind+1 {
			t.Fatalf("a queue held %d events, over the bound of %d", st.MaxQueued, 2*maxBehind+1)
		}
	}
	if want := fmt.Sprintf("evicted: more than %d messages behind", maxBehind); leave.Reason != want {
		t.Errorf("departure reason = %q, want %q", leave.Reason, want)
	}
	got := drain(t, slow.Events())
	if len(got) != buffer {
		t.Errorf("slow got %d events, want its buffer's %d", len(got), buffer)
	}
	assertIncreasing(t, got)
	if !errors.Is(slow.Err(), hub.ErrEvicted) {
		t.Errorf("Err() = %v, want ErrEvicted", slow.Err())
	}
	if st := h.Stats(); st.Evicted != 1 || st.Lagging != 0 || st.Queued != 0 {
		t.Errorf("Stats() = %+v, want one eviction and nobody lagging", st)
	}
	assertIncreasing(t, fastGot)
}

func TestReaderTooLongBehindIsEvicted(t *testing.T) {
	h := newHub(t, hub.WithSubscriberBuffer(1), hub.WithMaxLag(20*time.Millisecond), hub.WithFlushInterval(time.Millisecond))
	slow := mustSubscribe(t, h, "slow", "s1")
	obs := mustAdd(t, h, "obs", "o1")
	h.Message("obs", "one") // waits behind slow's join: the clock starts
	for ev := next(t, obs); ev.Type != hub.EventTypeLeave; ev = next(t, obs) {
	}
	got := drain(t, slow.Events())
	if len(got) != 1 || got[0].Type != hub.EventTypeJoin {
		t.Errorf("slow got %+v, want its join", got)
	}
	if !errors.Is(slow.Err(), hub.ErrEvicted) || !strings.Contains(slow.Err().Error(), "20ms behind") {
		t.Errorf("Err() = %v, want ErrEvicted for being 20ms behind", slow.Err())
	}
}

func TestEvict(t *testing.T) {
	h := newHub(t)
	sub := mustSubscribe(t, h, "ann", "a1")
	obs := mustAdd(t, h, "obs", "o1")
	if err := h.Evict("ann", "a1", "output queue full"); err != nil {
		t.Fatal(err)
	}
	drain(t, sub.Events())
	if !errors.Is(sub.Err(), hub.ErrEvicted) || !strings.Contains(sub.Err().Error(), "output queue full") {
		t.Errorf("Err() = %v, want ErrEvicted with the reason", sub.Err())
	}
	ev := next(t, obs)
	for ev.Type != hub.EventTypeLeave {
		ev = next(t, obs)
	}
	if ev.Reason != "evicted: output queue full" {
		t.Errorf("departure reason = %q", ev.Reason)
	}
	if err := h.Evict("ann", "a1", "again"); !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("second Evict = %v, want ErrNotFound", err)
	}
}

// TestCrowdThatStopsReadingCatchesUp is a storm: 1,000 sessions arrive
// and none reads while they do, nor while messages and departures follow;
// then they all read. Nobody is evicted, and each sees every message, in
// order, with the arrivals and departures it missed as roster events.
func TestCrowdThatStopsReadingCatchesUp(t *testing.T) {
	const n, messages, leaving = 1000, 200, 100
	// Queues are retried every millisecond: the test waits for them.
	h := newHub(t, hub.WithMaxBehind(messages+1), hub.WithFlushInterval(time.Millisecond))
	gate := make(chan struct{})
	subs := make([]*hub.Subscription, n)
	for i := range subs {
		subs[i] = mustSubscribe(t, h, fmt.Sprint("u", i), "s")
	}
	for i := range messages {
		h.Message("u0", fmt.Sprint(i))
	}
	for i := n - leaving; i < n; i++ {
		mustRemove(t, h, fmt.Sprint("u", i), "s")
	}
	h.Message("u0", "end")

	type result struct {
		msgs    []string
		rosters int
		err     error
	}
	results := make([]result, n-leaving)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			<-gate
			r := &results[i]
			last := 0
			for ev := range subs[i].Events() {
				if ev.ID <= last {
					r.err = fmt.Errorf("ID %d after %d", ev.ID, last)
				}
				last = ev.ID
				switch ev.Type {
				case hub.EventTypeMessage:
					if r.msgs = append(r.msgs, ev.Message); ev.Message == "end" {
						return
					}
				case hub.EventTypeRoster:
					r.rosters++
				}
			}
			r.err = fmt.Errorf("stream ended: %w", subs[i].Err())
		})
	}
	if st := h.Stats(); st.Lagging == 0 || st.Evicted != 0 {
		t.Fatalf("before reading: Stats() = %+v, want some lagging and none evicted", st)
	}
	close(gate)
	wg.Wait()
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("u%d: %v", i, r.err)
		}
		if len(r.msgs) != messages+1 {
			t.Fatalf("u%d got %d messages, want %d", i, len(r.msgs), messages+1)
		}
		for j := range messages {
			if r.msgs[j] != fmt.Sprint(j) {
				t.Fatalf("u%d: message %d is %q", i, j, r.msgs[j])
			}
		}
	}
	if results[0].rosters == 0 {
		t.Error("the first subscriber got no roster event for the arrivals it missed")
	}
	if st := h.Stats(); st.Evicted != 0 {
		t.Errorf("Stats() = %+v, want nobody evicted", st)
	}
}

// TestMassDepartureEvictsNobody: 250 of 500 sessions go at once while the
// others do not read; departures are presence, so none of the others is
// pushed over, even with room for only 4 messages behind.
func TestMassDepartureEvictsNobody(t *testing.T) {
	const n, leaving = 500, 250
	h := newHub(t, hub.WithSubscriberBuffer(4), hub.WithMaxBehind(4), hub.WithFlushInterval(time.Millisecond))
	subs := make([]*hub.Subscription, n)
	for i := range subs {
		subs[i] = mustSubscribe(t, h, fmt.Sprint("u", i), "s")
	}
	var wg sync.WaitGroup
	for i := n - leaving; i < n; i++ {
		wg.Go(func() {
			if err := h.Remove(fmt.Sprint("u", i), "s"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	h.Message("u0", "still here")
	for i := range n - leaving {
		var ev hub.Event
		for ev.Type != hub.EventTypeMessage {
			ev = next(t, subs[i].Events())
		}
	}
	if st := h.Stats(); st.Evicted != 0 || st.Subscribers != n-leaving {
		t.Errorf("Stats() = %+v, want %d subscribers and none evicted", st, n-leaving)
	}
	if st := h.Stats(); st.MaxQueued > 2*4+1 {
		t.Errorf("a queue held %d events, over the bound", st.MaxQueued)
	}
}

// TestLaggingReaderGetsTheRosterNotEveryChange: presence missed while
// behind comes as one roster event, not as a stream of changes.
func TestLaggingReaderGetsTheRosterNotEveryChange(t *testing.T) {
	h := newHub(t, hub.WithSubscriberBuffer(2))
	sub := mustSubscribe(t, h, "ann", "a1")
	for i := range 50 {
		mustAdd(t, h, fmt.Sprint("u", i), "s")
		if err := h.Rename(fmt.Sprint("u", i), "x"); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Rename("ann", "annie"); err != nil { // its own: the roster says it
		t.Fatal(err)
	}
	h.Message("ann", "after")
	h.Stats() // a request after the message: it has been delivered when this returns
	var got []hub.Event
	for ev := next(t, sub.Events()); ; ev = next(t, sub.Events()) {
		got = append(got, ev)
		if ev.Type == hub.EventTypeMessage {
			break
		}
	}
	assertIncreasing(t, got)
	var types []string
	for _, ev := range got {
		types = append(types, ev.Type)
	}
	// Its join, one more presence event that fit, the rest as one roster.
	if want := "[join join roster message]"; fmt.Sprint(types) != want {
		t.Errorf("stream = %v, want %s", types, want)
	}
	if got[2].UserID != "ann" || got[2].Name != "annie" {
		t.Errorf("roster event = %+v, want it to say ann is now annie", got[2])
	}
}

func TestListenersGetEverythingInOrder(t *testing.T) {
	h := hub.New("lobby", 8, 8)
	// An unbuffered listener read slowly: the hub must wait for it.
	slow := make(chan hub.Event)
	fast := make(chan hub.Event, 1024)
	h.AttachListener(slow)
	h.AttachListener(fast)

	var slowGot []hub.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range slow {
			slowGot = append(slowGot, ev)
			if len(slowGot)%50 == 0 {
				time.Sleep(time.Millisecond) // a slow disk, not synchronization
			}
		}
	}()
	for i := range 300 {
		h.Message("ann", fmt.Sprint(i))
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
	fastGot := drain(t, fast)
	for name, got := range map[string][]hub.Event{"slow": slowGot, "fast": fastGot} {
		if len(got) != 301 { // 300 messages, close
			t.Errorf("%s listener got %d events, want 301", name, len(got))
		}
		assertNoGaps(t, got)
	}
}

func TestIDsContinueAfterRestart(t *testing.T) {
	before := hub.New("lobby", 4, 3)
	mustAdd(t, before, "ann", "a1")
	for i := range 5 {
		before.Message("ann", fmt.Sprint(i))
	}
	prior := before.History()
	if err := before.Close(); err != nil {
		t.Fatal(err)
	}
	if len(prior) != 3 {
		t.Fatalf("History() kept %d events, want 3", len(prior))
	}

	after := newHub(t, hub.WithHistory(prior))
	if got := after.History(); len(got) != 3 || got[2].ID != prior[2].ID {
		t.Fatalf("warm History() = %+v, want the prior %+v", got, prior)
	}
	ch := mustAdd(t, after, "ann", "a2")
	if got := next(t, ch); got.ID != prior[2].ID+1 {
		t.Errorf("first ID after restart = %d, want %d", got.ID, prior[2].ID+1)
	}
}

func TestWithLastIDWithoutHistory(t *testing.T) {
	h := hub.New("lobby", 0, 0, hub.WithLastID(41))
	defer h.Close()
	ch := mustAdd(t, h, "ann", "a1")
	if got := next(t, ch); got.ID != 42 {
		t.Errorf("ID = %d, want 42", got.ID)
	}
	if got := h.History(); len(got) != 0 {
		t.Errorf("History() = %v, want none with historySize 0", got)
	}
}

func TestSubscribeSnapshot(t *testing.T) {
	h := newHub(t)
	mustSubscribeAs(t, h, hub.Member{UserID: "ann", SessionID: "a1", Name: "Ann"})
	mustSubscribeAs(t, h, hub.Member{UserID: "ann", SessionID: "a2", Name: "Ann"})
	h.Message("ann", "before")
	sub, err := h.Subscribe(hub.Member{UserID: "bob", SessionID: "b1", Name: "Bob"}, 2, hub.WithUsers())
	if err != nil {
		t.Fatal(err)
	}
	hist := sub.History()
	if len(hist) != 2 || hist[0].Type != hub.EventTypeAdd || hist[1].Message != "before" {
		t.Errorf("History() = %+v, want the add and the message before the join", hist)
	}
	users := map[string]hub.User{}
	for _, u := range sub.Users() {
		users[u.UserID] = u
	}
	want := map[string]hub.User{
		"ann": {UserID: "ann", Name: "Ann", Sessions: 2},
		"bob": {UserID: "bob", Name: "Bob", Sessions: 1},
	}
	if fmt.Sprint(users) != fmt.Sprint(want) {
		t.Errorf("Users() = %v, want %v", users, want)
	}
	if ev := next(t, sub.Events()); ev.Type != hub.EventTypeJoin || ev.Name != "Bob" || ev.ID != hist[1].ID+1 {
		t.Errorf("first event = %+v, want Bob's join right after the backlog", ev)
	}
	h.Message("ann", "named")
	if ev := next(t, sub.Events()); ev.Name != "Ann" {
		t.Errorf("message name = %q, want Ann", ev.Name)
	}
	if other := mustSubscribe(t, h, "carl", "c1"); other.Users() != nil {
		t.Errorf("Users() = %v without WithUsers, want nil", other.Users())
	}
}

func TestEventFields(t *testing.T) {
	at := time.Unix(1700000000, 0)
	h := newHub(t, hub.WithClock(func() time.Time { return at }))
	ch := mustAdd(t, h, "ann", "a1")
	h.Message("ann", "hi")
	next(t, ch)
	got := next(t, ch)
	want := hub.Event{ID: 2, ChatRoomID: "lobby", Type: "message", UserID: "ann", Message: "hi", UnixTime: at.Unix()}
	if got != want {
		t.Errorf("event = %+v, want %+v", got, want)
	}
}

func TestConcurrentUse(t *testing.T) {
	// A buffer larger than all the events of the test: this one is about
	// concurrent calls, eviction has tests of its own.
	h := hub.New("lobby", 64, 64, hub.WithSubscriberBuffer(1024))
	var wg sync.WaitGroup
	for u := range 8 {
		wg.Go(func() {
			user := fmt.Sprint("u", u)
			for s := range 20 {
				session := fmt.Sprint(user, "-", s)
				ch, err := h.Add(user, session)
				if err != nil {
					t.Error(err)
					return
				}
				// Read as a session does, or the others' events would fill
				// the buffer and evict it.
				drained := make(chan struct{})
				go func() {
					defer close(drained)
					for range ch {
					}
				}()
				h.Message(user, "hello")
				h.History()
				if err := h.Remove(user, session); err != nil {
					t.Error(err)
				}
				<-drained
			}
		})
	}
	wg.Wait()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
}

func assertIncreasing(t *testing.T, evs []hub.Event) {
	t.Helper()
	for i := 1; i < len(evs); i++ {
		if evs[i].ID <= evs[i-1].ID {
			t.Fatalf("event %d has ID %d after %d", i, evs[i].ID, evs[i-1].ID)
		}
	}
}

func assertNoGaps(t *testing.T, evs []hub.Event) {
	t.Helper()
	for i := 1; i < len(evs); i++ {
		if evs[i].ID != evs[i-1].ID+1 {
			t.Fatalf("gap: event %d has ID %d after %d", i, evs[i].ID, evs[i-1].ID)
		}
	}
}

func mustAdd(t *testing.T, h *hub.Hub, userID, sessionID string) <-chan hub.Event {
	t.Helper()
	ch, err := h.Add(userID, sessionID)
	if err != nil {
		t.Fatalf("Add(%s, %s): %v", userID, sessionID, err)
	}
	return ch
}

func mustSubscribe(t *testing.T, h *hub.Hub, userID, sessionID string) *hub.Subscription {
	t.Helper()
	return mustSubscribeAs(t, h, hub.Member{UserID: userID, SessionID: sessionID})
}

func mustSubscribeAs(t *testing.T, h *hub.Hub, m hub.Member) *hub.Subscription {
	t.Helper()
	sub, err := h.Subscribe(m, 0)
	if err != nil {
		t.Fatalf("Subscribe(%+v): %v", m, err)
	}
	return sub
}

func mustRemove(t *testing.T, h *hub.Hub, userID, sessionID string) {
	t.Helper()
	if err := h.Remove(userID, sessionID); err != nil {
		t.Fatalf("Remove(%s, %s): %v", userID, sessionID, err)
	}
}

func TestPublishNames(t *testing.T) {
	h := newHub(t)
	obs := mustSubscribeAs(t, h, hub.Member{UserID: "ann", SessionID: "a1", Name: "Ann"})
	next(t, obs.Events())
	h.Publish("bot", "Robot", "beep")
	h.Publish("ann", "Impostor", "hi")
	if got := next(t, obs.Events()); got.Name != "Robot" || got.UserID != "bot" {
		t.Errorf("offline sender's message = %+v, want the given name", got)
	}
	if got := next(t, obs.Events()); got.Name != "Ann" {
		t.Errorf("online sender's name = %q, want the room's name Ann", got.Name)
	}
}

func TestDirectMessagesReachOnlyTheirTwoUsers(t *testing.T) {
	h := newHub(t)
	ann := mustSubscribeAs(t, h, hub.Member{UserID: "ann", SessionID: "a1", Name: "Ann"})
	ann2 := mustSubscribeAs(t, h, hub.Member{UserID: "ann", SessionID: "a2", Name: "Ann"})
	bob := mustSubscribeAs(t, h, hub.Member{UserID: "bob", SessionID: "b1", Name: "Bob"})
	eve := mustSubscribeAs(t, h, hub.Member{UserID: "eve", SessionID: "e1", Name: "Eve"})
	if err := h.Post(hub.Event{Type: hub.EventTypeDirect, UserID: "ann", To: "bob", Message: "psst"}); err != nil {
		t.Fatal(err)
	}
	h.Message("ann", "public")
	for name, sub := range map[string]*hub.Subscription{"ann": ann, "ann2": ann2, "bob": bob} {
		var got hub.Event
		for got.Type != hub.EventTypeDirect {
			got = next(t, sub.Events())
		}
		if got.Message != "psst" || got.Name != "Ann" || got.ToName != "Bob" {
			t.Errorf("%s got %+v, want the direct message with both names", name, got)
		}
	}
	for ev := next(t, eve.Events()); ev.Type != hub.EventTypeMessage; ev = next(t, eve.Events()) {
		if ev.Type == hub.EventTypeDirect {
			t.Fatalf("eve saw a direct message between others: %+v", ev)
		}
	}
	// A newcomer's backlog has no direct messages of others.
	late, err := h.Subscribe(hub.Member{UserID: "carl", SessionID: "c1"}, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range late.History() {
		if ev.Type == hub.EventTypeDirect {
			t.Errorf("backlog of a third user holds %+v", ev)
		}
	}
	mine, err := h.Subscribe(hub.Member{UserID: "bob", SessionID: "b2"}, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range mine.History() {
		found = found || ev.Type == hub.EventTypeDirect
	}
	if !found {
		t.Error("backlog of the recipient lacks the direct message")
	}
}

func TestPostRefusesEventsTheHubMakes(t *testing.T) {
	h := newHub(t)
	for _, typ := range []string{"", hub.EventTypeJoin, hub.EventTypeLeave, hub.EventTypeClose, hub.EventTypeNick} {
		if err := h.Post(hub.Event{Type: typ}); !errors.Is(err, hub.ErrBadType) {
			t.Errorf("Post(%q) = %v, want ErrBadType", typ, err)
		}
	}
	_ = h.Close()
	if err := h.Post(hub.Event{Type: hub.EventTypeNotice}); !errors.Is(err, hub.ErrClosed) {
		t.Errorf("Post after Close = %v, want ErrClosed", err)
	}
}

func TestRename(t *testing.T) {
	h := newHub(t)
	sub := mustSubscribeAs(t, h, hub.Member{UserID: "ann", SessionID: "a1", Name: "ann"})
	next(t, sub.Events())
	if err := h.Rename("ann", "annie"); err != nil {
		t.Fatal(err)
	}
	if got := next(t, sub.Events()); got.Type != hub.EventTypeNick || got.Name != "annie" || got.OldName != "ann" {
		t.Errorf("rename event = %+v", got)
	}
	h.Message("ann", "hi")
	if got := next(t, sub.Events()); got.Name != "annie" {
		t.Errorf("message after rename carries %q", got.Name)
	}
	if err := h.Rename("nobody", "x"); !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("Rename of an absent user = %v, want ErrNotFound", err)
	}
}

func TestDrop(t *testing.T) {
	h := newHub(t)
	a1 := mustSubscribe(t, h, "ann", "a1")
	a2 := mustSubscribe(t, h, "ann", "a2")
	obs := mustAdd(t, h, "obs", "o1")
	if err := h.Drop("ann", "kicked by admin"); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []*hub.Subscription{a1, a2} {
		drain(t, sub.Events())
		if !errors.Is(sub.Err(), hub.ErrDropped) || !strings.Contains(sub.Err().Error(), "kicked by admin") {
			t.Errorf("Err() = %v, want ErrDropped with the reason", sub.Err())
		}
	}
	var types []string
	for len(types) < 3 {
		ev := next(t, obs)
		if ev.UserID == "ann" && ev.Reason == "kicked by admin" {
			types = append(types, ev.Type)
		}
		if ev.Type == hub.EventTypeJoin && ev.UserID == "obs" {
			types = append(types, "self")
		}
	}
	if fmt.Sprint(types) != "[self remove leave]" {
		t.Errorf("observer saw %v, want its join, then ann's remove and leave with the reason", types)
	}
	if err := h.Drop("ann", "again"); !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("second Drop = %v, want ErrNotFound", err)
	}
}

// TestPresenceBurstEvictsNobody: one user renames itself 2,000 times and
// goes away now and then while 20 others do not read, with room for only
// 8 messages behind: the others get the roster, and stay.
func TestPresenceBurstEvictsNobody(t *testing.T) {
	const readers = 20
	h := newHub(t, hub.WithSubscriberBuffer(4), hub.WithMaxBehind(8))
	subs := make([]*hub.Subscription, readers)
	for i := range subs {
		subs[i] = mustSubscribe(t, h, fmt.Sprint("u", i), "s")
	}
	mustSubscribe(t, h, "busy", "b1") // not reading either
	for i := range 2000 {
		if err := h.Rename("busy", fmt.Sprint("name", i)); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			if err := h.Post(hub.Event{Type: hub.EventTypeAway, UserID: "busy"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.Message("u0", "still here")
	for i, sub := range subs {
		var got []hub.Event
		for ev := next(t, sub.Events()); ev.Type != hub.EventTypeMessage; ev = next(t, sub.Events()) {
			got = append(got, ev)
		}
		if len(got) > 2*readers+10 { // the arrivals before the storm, and rosters
			t.Errorf("u%d took %d presence events one by one, want them folded", i, len(got))
		}
	}
	if st := h.Stats(); st.Evicted != 0 {
		t.Errorf("Stats() = %+v, want nobody evicted", st)
	}
}
