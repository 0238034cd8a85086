package chat

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait for the hub.
const wait = 10 * time.Second

// fakeSession is a session in memory: it records why it was told to end.
type fakeSession struct {
	id    string
	ended chan string // capacity 1, as a real session's
}

func newFakeSession(id string) *fakeSession {
	return &fakeSession{id: id, ended: make(chan string, 1)}
}

func (f *fakeSession) ID() string     { return f.id }
func (f *fakeSession) Remote() string { return "192.0.2.1:1" }

func (f *fakeSession) End(reason string) {
	select {
	case f.ended <- reason:
	default:
	}
}

// fakeScript is a script session in memory.
type fakeScript struct {
	*fakeSession
	ctx            context.Context
	user           string
	stdin          io.Reader
	stdout, stderr strings.Builder
	finished       bool
}

func (f *fakeScript) Context() context.Context { return f.ctx }
func (f *fakeScript) User() string             { return f.user }
func (f *fakeScript) Stdin() io.Reader         { return f.stdin }
func (f *fakeScript) Stdout() io.Writer        { return &f.stdout }
func (f *fakeScript) Stderr() io.Writer        { return &f.stderr }
func (f *fakeScript) Follow() (io.Writer, func()) {
	return &f.stdout, func() { f.finished = true }
}

// testCore is a core on a real hub, with its registry in memory unless
// one is given.
type testCore struct {
	t    *testing.T
	core *Core
	hub  *hub.Hub
	reg  *registry.Registry
}

func newTestCore(t *testing.T, cfg Config, reg *registry.Registry) *testCore {
	t.Helper()
	if reg == nil {
		var err error
		if reg, err = registry.Open(""); err != nil {
			t.Fatal(err)
		}
	}
	h := hub.New("lobby", 64, 1024)
	t.Cleanup(func() { _ = h.Close() })
	return &testCore{t: t, core: New(h, reg, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg), hub: h, reg: reg}
}

// arrive brings a session of userID into the room, asking for name; it
// leaves at the end of the test.
func (tc *testCore) arrive(userID, name, sessionID string) (*Seat, Arrival, *fakeSession) {
	tc.t.Helper()
	seat, a, sess, _ := tc.enter(userID, name, sessionID)
	return seat, a, sess
}

// join is arrive, with the session's subscription to the room.
func (tc *testCore) join(userID, name, sessionID string) (*Seat, *hub.Subscription) {
	tc.t.Helper()
	seat, _, _, sub := tc.enter(userID, name, sessionID)
	return seat, sub
}

// enter does what a screen does on arrival: Arrive, then Join.
func (tc *testCore) enter(userID, name, sessionID string) (*Seat, Arrival, *fakeSession, *hub.Subscription) {
	tc.t.Helper()
	sess := newFakeSession(sessionID)
	seat, a, err := tc.core.Arrive(userID, name, sess)
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.t.Cleanup(seat.Leave)
	sub, err := seat.Join(0)
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.t.Cleanup(func() { _ = tc.hub.Remove(userID, sessionID) })
	return seat, a, sess, sub
}

// next waits for the next event of sub that is not presence.
func next(t *testing.T, sub *hub.Subscription) hub.Event {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatalf("stream ended: %v", sub.Err())
			}
			switch ev.Type {
			case hub.EventTypeJoin, hub.EventTypeAdd, hub.EventTypeRemove, hub.EventTypeLeave, hub.EventTypeRoster:
				continue
			}
			return ev
		case <-timeout:
			t.Fatal("no event")
		}
	}
}

// lastOfType is the last event of type typ in the room's history.
func (tc *testCore) lastOfType(typ string) (hub.Event, bool) {
	h := tc.hub.History()
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Type == typ {
			return h[i], true
		}
	}
	return hub.Event{}, false
}
