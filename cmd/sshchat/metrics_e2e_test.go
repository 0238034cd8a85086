package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMetricsEndpoint(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config) { c.MetricsAddr = "127.0.0.1:0" })
	base := "http://" + s.app.side[0].addr.String()
	scrape := func() string {
		t.Helper()
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	// Counters move as the room does; poll with a deadline, since the
	// metrics listener sees events a moment after the screens.
	waitMetric := func(want string) {
		t.Helper()
		deadline := time.Now().Add(wait)
		for !strings.Contains(scrape(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in /metrics:\n%s", want, scrape())
			}
			time.Sleep(20 * time.Millisecond) // polling an HTTP endpoint, not synchronizing
		}
	}

	alice := s.connect("alice", newKey(t), 100, 30)
	alice.waitText("#lobby")
	waitMetric("sshchat_sessions 1")
	waitMetric("sshchat_users 1")
	alice.say("counted")
	alice.waitText("alice: counted")
	waitMetric(`sshchat_events_total{type="message"} 1`)
	// Every room counts, added up: no series per room.
	bob := s.connectIn("bob", newKey(t), 100, 30, "#go")
	bob.waitShown("#go")
	bob.say("in another room")
	bob.waitText("bob: in another room")
	waitMetric(`sshchat_events_total{type="message"} 2`)
	waitMetric("sshchat_sessions 2")
	if strings.Contains(scrape(), `room="`) {
		t.Error("metrics labelled by room")
	}
	if _, _, status := s.runCmd("bot", newKey(t), "", ""); status != 1 {
		t.Errorf("a session without a terminal exited %d, want 1", status)
	}
	waitMetric(`sshchat_refused_total{reason="no_terminal"} 1`)
	waitMetric("sshchat_log_append_seconds_count")

	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", resp.StatusCode)
	}
}
