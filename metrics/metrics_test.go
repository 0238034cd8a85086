package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/sshchat/sshchat/hub"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCountsFollowTheHub(t *testing.T) {
	m := New()
	h := hub.New("lobby", 8, 8)
	m.Watch(h)
	a, _ := h.Add("ann", "a1")
	h.Add("ann", "a2")
	b, _ := h.Add("bob", "b1")
	h.Message("ann", "hi")
	if err := h.Remove("ann", "a2"); err != nil {
		t.Fatal(err)
	}
	// The metrics listener counts a moment after the hub delivers.
	eventually(t, "sessions 2", func() bool { return testutil.ToFloat64(m.sessions) == 2 })
	eventually(t, "users 2", func() bool { return testutil.ToFloat64(m.users) == 2 })
	eventually(t, "one message", func() bool { return testutil.ToFloat64(m.events.WithLabelValues("message")) == 1 })
	for ev := range b {
		if ev.Type == hub.EventTypeRemove {
			break
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range a {
	}
	if got := testutil.ToFloat64(m.sessions); got != 0 {
		t.Errorf("sessions after close = %v, want 0", got)
	}
}

func TestHandler(t *testing.T) {
	m := New()
	m.Refused("login_timeout")
	m.AuthFailed()
	m.Appended(3, 300, 2*time.Millisecond)
	healthy := error(nil)
	srv := httptest.NewServer(m.Handler(func() error { return healthy }))
	defer srv.Close()

	body := get(t, srv.URL+"/metrics", 200)
	for _, want := range []string{
		`sshchat_refused_total{reason="login_timeout"} 1`,
		`sshchat_auth_failures_total 1`,
		`sshchat_log_bytes_total 300`,
		`sshchat_log_append_seconds_count 1`,
		`sshchat_events_total{type="close"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	get(t, srv.URL+"/healthz", 200)
	healthy = io.EOF
	get(t, srv.URL+"/healthz", 503)
}

// fakeLog is an event log whose health the test sets.
type fakeLog struct {
	err     error
	pending int
	errors  int64
}

func (f *fakeLog) Healthy() error     { return f.err }
func (f *fakeLog) Pending() int       { return f.pending }
func (f *fakeLog) WriteErrors() int64 { return f.errors }

func TestLogHealth(t *testing.T) {
	m := New()
	l := &fakeLog{}
	m.WatchLog(l)
	srv := httptest.NewServer(m.Handler(func() error { return nil }))
	defer srv.Close()
	for _, tc := range []struct {
		log  fakeLog
		want []string
	}{
		{fakeLog{}, []string{"sshchat_log_healthy 1", "sshchat_log_pending_events 0", "sshchat_log_write_errors_total 0"}},
		{fakeLog{err: io.ErrShortWrite, pending: 12, errors: 3}, []string{"sshchat_log_healthy 0", "sshchat_log_pending_events 12", "sshchat_log_write_errors_total 3"}},
	} {
		*l = tc.log
		body := get(t, srv.URL+"/metrics", 200)
		for _, want := range tc.want {
			if !strings.Contains(body, want+"\n") {
				t.Errorf("log %+v: /metrics lacks %q", tc.log, want)
			}
		}
	}
}

func TestWaitHonoursContext(t *testing.T) {
	m := New()
	h := hub.New("lobby", 8, 8)
	m.Watch(h)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with an open hub = %v, want context.Canceled", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Wait(context.Background()); err != nil {
		t.Errorf("Wait after close = %v", err)
	}
}

func get(t *testing.T, url string, status int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Errorf("GET %s: %d, want %d", url, resp.StatusCode, status)
	}
	return string(body)
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(time.Millisecond) // polling a counter, not synchronizing
	}
}

func TestEvictionsAreCounted(t *testing.T) {
	m := New()
	h := hub.New("lobby", 8, 8, hub.WithSubscriberBuffer(1), hub.WithMaxBehind(2))
	m.Watch(h)
	slow, _ := h.Add("slow", "s1") // never read until the end
	if _, err := h.Add("gone", "g1"); err != nil {
		t.Fatal(err)
	}
	if err := h.Evict("gone", "g1", "output queue full"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		h.Message("ann", "hi")
	}
	eventually(t, "two evictions", func() bool { return testutil.ToFloat64(m.evictions) == 2 })
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	_ = m.Wait(context.Background())
	for range slow {
	}
	if got := testutil.ToFloat64(m.evictions); got != 2 {
		t.Errorf("evictions = %v, want 2: one by the hub's bound, one by Evict", got)
	}
}

func TestLaggingSessionsAreShown(t *testing.T) {
	m := New()
	h := hub.New("lobby", 8, 8, hub.WithSubscriberBuffer(1))
	m.Watch(h)
	slow, _ := h.Add("slow", "s1") // its arrival fills its channel
	h.Message("ann", "waits in the hub")
	srv := httptest.NewServer(m.Handler(func() error { return nil }))
	defer srv.Close()
	if body := get(t, srv.URL+"/metrics", 200); !strings.Contains(body, "sshchat_hub_lagging_sessions 1") {
		t.Errorf("/metrics does not show the lagging session:\n%s", body)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	_ = m.Wait(context.Background())
	for range slow {
	}
}
