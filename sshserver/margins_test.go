package sshserver

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// TestMarginsOverSSH: a terminal that says it has left and right margins
// (x/vt answers about mode 69 as xterm does) gets each new message
// scrolled in beside the member list, which is not sent again, and shows
// every row right.
func TestMarginsOverSSH(t *testing.T) {
	ts := startTestServer(t, WithConfig(Config{MessageBurst: 1000, MessageRate: 1000}))
	ann := ts.connect("ann", newSigner(t))
	ann.waitText("#lobby")
	bob := ts.connect("bob", newSigner(t))
	bob.waitText("#lobby")
	say := func(i int) {
		t.Helper()
		if _, err := fmt.Fprintf(bob.stdin, "line %d of many\r", i); err != nil {
			t.Fatal(err)
		}
	}
	// More lines than the screen has rows, then the transcript scrolls
	// for each new one.
	const full, more = 60, 10
	for i := range full {
		say(i)
	}
	ann.waitText(fmt.Sprintf("bob: line %d of many", full-1))
	_, before := ann.text()
	for i := full; i < full+more; i++ {
		say(i)
		ann.waitText(fmt.Sprintf("bob: line %d of many", i))
	}
	scr, raw := ann.text()
	raw = raw[len(before):]
	if n := strings.Count(raw, "\x1b[?69h"); n < more {
		t.Errorf("%d scrolls between margins for %d lines: %q", n, more, raw)
	}
	if strings.Contains(raw, "bob\x1b[0m\x1b[K") { // a row of the member list
		t.Errorf("the member list was sent again: %q", raw)
	}
	var listed []string
	for _, r := range strings.Split(scr, "\n") {
		if _, name, ok := strings.Cut(r, "╎ "); ok {
			listed = append(listed, strings.TrimSpace(name))
		}
	}
	if len(listed) < 2 || !strings.HasPrefix(listed[0], "ann") || !strings.HasPrefix(listed[1], "bob") {
		t.Errorf("the member list is %q; screen:\n%s", listed, scr)
	}
	for i := full + more - 40; i < full+more; i++ {
		if !strings.Contains(scr, fmt.Sprintf("bob: line %d of many ", i)) {
			t.Errorf("line %d is not on the screen:\n%s", i, scr)
			break
		}
	}
}

// TestResizeFlood: a client that sends window changes as fast as it can
// is taken at a pace, and its screen ends at the last size it asked for.
func TestResizeFlood(t *testing.T) {
	ts := startTestServer(t)
	ann := ts.connect("ann", newSigner(t))
	ann.waitText("#lobby")
	for i := range 2 * requestBurst {
		if err := ann.sess.WindowChange(60, 100+i%2); err != nil {
			t.Fatal(err)
		}
	}
	if err := ann.sess.WindowChange(60, 70); err != nil {
		t.Fatal(err)
	}
	// The header ends with the name at the right edge of 70 columns (and a
	// space, trimmed here).
	deadline := time.Now().Add(wait)
	for {
		scr, _ := ann.text()
		header, _, _ := strings.Cut(scr, "\n")
		header = strings.TrimRight(header, " ")
		if strings.HasSuffix(header, "ann") && ansi.StringWidth(header) == 69 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the header is %q, want it 70 cells wide; screen:\n%s", header, scr)
		}
		select {
		case <-ann.changed:
		case <-time.After(10 * time.Millisecond): // polling a condition, with a deadline
		}
	}
}
