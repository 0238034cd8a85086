package chat

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait for the hub.
const wait = 10 * time.Second

// fakeSession is a session in memory: it records why it was told to end,
// and the rooms a command put it in.
type fakeSession struct {
	id      string
	ended   chan string // capacity 1, as a real session's
	entered chan entered
}

type entered struct {
	room RoomInfo
	sub  *hub.Subscription
}

func newFakeSession(id string) *fakeSession {
	return &fakeSession{id: id, ended: make(chan string, 1), entered: make(chan entered, 32)}
}

func (f *fakeSession) Enter(room RoomInfo, sub *hub.Subscription) {
	select {
	case f.entered <- entered{room, sub}:
	default:
	}
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

// testCore is a core on real hubs, with its registry in memory unless
// one is given. hub is the lobby's.
type testCore struct {
	t    *testing.T
	core *Core
	hub  *hub.Hub
	reg  *registry.Registry

	mu   sync.Mutex
	hubs map[string]*hub.Hub // guarded by mu; every hub the core opened, by room ID
}

func newTestCore(t *testing.T, cfg Config, reg *registry.Registry) *testCore {
	t.Helper()
	if reg == nil {
		var err error
		if reg, err = registry.Open(""); err != nil {
			t.Fatal(err)
		}
	}
	tc := &testCore{t: t, reg: reg, hubs: map[string]*hub.Hub{}}
	if cfg.OpenRoom == nil {
		cfg.OpenRoom = func(id string) (Room, error) {
			opts := []hub.Option{}
			if id == DirectID {
				opts = append(opts, hub.WithoutPresence())
			}
			h := hub.New(id, 64, 1024, opts...)
			tc.mu.Lock()
			tc.hubs[id] = h
			tc.mu.Unlock()
			return h, nil
		}
	}
	core, err := New(reg, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := core.Close(); err != nil {
			t.Error(err)
		}
	})
	tc.core = core
	tc.hub = tc.hubOf(core.Lobby())
	return tc
}

// hubOf is the hub the core opened for room id.
func (tc *testCore) hubOf(id string) *hub.Hub {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.hubs[id]
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
	sub, _, err := seat.Join(tc.core.Lobby(), 0)
	if err != nil {
		tc.t.Fatal(err)
	}
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

func writeFile(path, data string) error { return os.WriteFile(path, []byte(data), 0o600) }
