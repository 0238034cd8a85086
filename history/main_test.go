package history

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sshchat/sshchat/hub"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var discard = slog.New(slog.DiscardHandler)

var testUsers = []struct{ id, name string }{
	{"SHA256:alice0000000000000000000000000000000000000", "alice"},
	{"SHA256:bob00000000000000000000000000000000000000", "Bob"},
}

// event returns a plausible event with the given ID: mostly messages, from
// alternating users, one second apart.
func event(id int) hub.Event {
	u := testUsers[id%len(testUsers)]
	e := hub.Event{
		ID:         id,
		ChatRoomID: "lobby",
		Type:       hub.EventTypeMessage,
		UserID:     u.id,
		Name:       u.name,
		Message:    fmt.Sprintf("message number %d <&>", id),
		UnixTime:   1_700_000_000 + int64(id),
	}
	if id%5 == 0 {
		e.Type, e.SessionID, e.Message = hub.EventTypeJoin, fmt.Sprintf("s%d", id), ""
	}
	return e
}

func events(from, to int) []hub.Event {
	var es []hub.Event
	for id := from; id <= to; id++ {
		es = append(es, event(id))
	}
	return es
}

// encodeLine encodes e as the writer does.
func encodeLine(t testing.TB, e hub.Event) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func writeFile(t testing.TB, path string, parts ...string) {
	t.Helper()
	var b bytes.Buffer
	for _, p := range parts {
		b.WriteString(p)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t testing.TB, path string, parts ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if _, err := f.WriteString(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func logPath(t testing.TB) string { return filepath.Join(t.TempDir(), "events.log") }

func mustOpen(t testing.TB, path string, opts Options) *Log {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = discard
	}
	l, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// send plays the hub: every event on the listener, then the channel closed,
// then Close.
func send(t testing.TB, l *Log, es []hub.Event) {
	t.Helper()
	ch := l.Listener()
	for _, e := range es {
		ch <- e
	}
	close(ch)
	if err := l.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// readAll returns every event of the file, failing on any corrupt line.
func readAll(t testing.TB, path string) []hub.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var es []hub.Event
	for rec, err := range Scan(f, Filter{}) {
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		es = append(es, rec.Event)
	}
	return es
}

func ids(es []hub.Event) []int {
	out := make([]int, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func recordIDs(rs []Record) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.Event.ID
	}
	return out
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// fakeFile wraps the log's file to record its operations and inject
// failures.
type fakeFile struct {
	file
	mu         sync.Mutex
	ops        []string    // "write" and "sync", in order
	at         []time.Time // when each of ops was done
	failWrites int         // the next failWrites writes write half, then fail
	failSyncs  int
	failAll    bool          // every write and sync fails until cleared
	failErr    error         // what they fail with; nil means errInjected
	blocked    chan struct{} // while not nil, writes wait until it is closed
}

var errInjected = errors.New("injected failure")

func (f *fakeFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	blocked := f.blocked
	f.mu.Unlock()
	if blocked != nil {
		<-blocked
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAll {
		return 0, f.failure()
	}
	if f.failWrites > 0 {
		f.failWrites--
		n, _ := f.file.Write(p[:len(p)/2])
		return n, errInjected
	}
	f.ops, f.at = append(f.ops, "write"), append(f.at, time.Now())
	return f.file.Write(p)
}

func (f *fakeFile) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAll {
		return f.failure()
	}
	if f.failSyncs > 0 {
		f.failSyncs--
		return errInjected
	}
	f.ops, f.at = append(f.ops, "sync"), append(f.at, time.Now())
	return f.file.Sync()
}

func (f *fakeFile) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, o := range f.ops {
		if o == op {
			n++
		}
	}
	return n
}

// first is when op was first done, or the zero time.
func (f *fakeFile) first(op string) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i := slices.Index(f.ops, op); i >= 0 {
		return f.at[i]
	}
	return time.Time{}
}

func (f *fakeFile) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ops) == 0 {
		return ""
	}
	return f.ops[len(f.ops)-1]
}

func (f *fakeFile) failure() error {
	if f.failErr != nil {
		return f.failErr
	}
	return errInjected
}

// block makes writes wait until the returned function is called.
func (f *fakeFile) block() (release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := make(chan struct{})
	f.blocked = c
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			f.blocked = nil
			f.mu.Unlock()
			close(c)
		})
	}
}

func (f *fakeFile) setFailAll(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failAll = v
}

// fake installs a fakeFile under l before its writer starts and shortens
// the retry delays.
func fake(l *Log) *fakeFile {
	l.mu.Lock()
	defer l.mu.Unlock()
	ff := &fakeFile{file: l.f}
	l.f = ff
	l.retryMin, l.retryMax = time.Millisecond, 4*time.Millisecond
	return ff
}
