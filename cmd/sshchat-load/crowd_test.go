package main

import (
	"io"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBurstSetsRateAndDuration(t *testing.T) {
	c, err := parseFlags([]string{"-n", "500", "-burst", "1000", "-burst-window", "2s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rate != 500 || c.Duration != 2*time.Second || c.Senders != 500 || c.messages() != 1000 {
		t.Errorf("rate %v, duration %v, senders %d, messages %d; want 500, 2s, 500, 1000", c.Rate, c.Duration, c.Senders, c.messages())
	}
	c, err = parseFlags([]string{"-n", "20", "-burst", "7", "-senders", "3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Senders != 3 || c.messages() != 7 || c.Duration != 2*time.Second {
		t.Errorf("senders %d, messages %d, duration %v; want 3, 7, 2s", c.Senders, c.messages(), c.Duration)
	}
	for _, args := range [][]string{
		{"-burst", "10", "-rate", "5"},
		{"-burst", "10", "-duration", "5s"},
		{"-burst", "10", "-idle"},
		{"-burst", "10", "-burst-window", "0s"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

func TestDepartWaves(t *testing.T) {
	c, err := parseFlags([]string{"-n", "500", "-idle", "-depart", "100,250"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Depart, departWaves{100, 250}) || c.departing() != 350 {
		t.Errorf("waves %v (%d in all), want 100,250", c.Depart, c.departing())
	}
	for _, args := range [][]string{
		{"-n", "100", "-idle", "-depart", "100"},                    // nobody would stay
		{"-n", "100", "-senders", "10", "-depart", "95"},            // a sender would leave
		{"-n", "100", "-idle", "-depart", "10,x"},                   // not a count
		{"-n", "100", "-idle", "-depart", "0"},                      // not a count
		{"-n", "100", "-idle", "-depart", "5", "-depart-gap", "2m"}, // too long
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

func TestNickCommandsAlternateAndEndOnTheOwnName(t *testing.T) {
	got := string(nickCommands("load00000", 4))
	want := "/nick load00000x\r/nick load00000\r/nick load00000x\r/nick load00000\r"
	if got != want {
		t.Errorf("nickCommands = %q, want %q", got, want)
	}
	if _, err := parseFlags([]string{"-idle", "-presence", "-1"}, io.Discard); err == nil {
		t.Error("-presence -1: accepted")
	}
	if _, err := parseFlags([]string{"-idle", "-presence", "1000000"}, io.Discard); err == nil {
		t.Error("-presence 1000000: accepted")
	}
}

func TestLeavingTakesTheLastAndKeepsOne(t *testing.T) {
	all := make([]*session, 5)
	for i := range all {
		all[i] = &session{idx: i}
	}
	idx := func(ss []*session) []int {
		var out []int
		for _, s := range ss {
			out = append(out, s.idx)
		}
		return out
	}
	if got := idx(leaving(all, 2)); !slices.Equal(got, []int{3, 4}) {
		t.Errorf("2 of 5: %v, want [3 4]", got)
	}
	if got := idx(leaving(all, 9)); !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Errorf("9 of 5: %v, want all but the first", got)
	}
	if got := leaving(all[:1], 1); len(got) != 0 {
		t.Errorf("1 of 1: %d leave, want none", len(got))
	}
}

// endedSession is a session that scanned the given reads while the run
// was on.
func endedSession(t *testing.T, r *run, idx int, departed bool, reads ...string) *session {
	t.Helper()
	s := newSession(r, idx)
	s.departed.Store(departed)
	sc := newScreenScanner()
	for _, p := range reads {
		s.scan(sc, []byte(p))
	}
	return s
}

func TestDroppedSessionsCountEvictions(t *testing.T) {
	r := testRun(t, 4)
	sessions := []*session{
		endedSession(t, r, 0, false, "\x1b[2;1H#lobby"),
		// The reason of an eviction may come a read after "disconnected".
		endedSession(t, r, 1, false, "#lobby", "\x1b[?1049lsshchat: disconnected: this sess", "ion fell too far behind the chat\r\n"),
		endedSession(t, r, 2, false, "#lobby", "sshchat: disconnected: kicked by boss\r\n"),
		endedSession(t, r, 3, false, "#lobby", "12:00 server is shutting down"),
		endedSession(t, r, 4, false, "#lobby", "12:00 ← load00001 left (evicted: fell 64 events behind)"),
		// Disconnected by the tool in a mass departure: not a failure.
		endedSession(t, r, 5, true, "#lobby", "sshchat: disconnected: gone"),
	}
	d := droppedSessions(sessions)
	if d.Sessions != 3 || d.Evicted != 1 || d.ScreenSaid != 3 {
		t.Errorf("dropped %d, evicted %d, screen said %d; want 3, 1, 3 (%+v)", d.Sessions, d.Evicted, d.ScreenSaid, d)
	}
	want := map[string]int{"fell too far behind": 1, "disconnected": 1, "shutting down": 1}
	for w, n := range want {
		if d.Words[w] != n {
			t.Errorf("words %v, want %v", d.Words, want)
			break
		}
	}
	// After the run a shutdown is what was asked for.
	r.phase.Store(phaseShutdown)
	late := endedSession(t, r, 6, false, "#lobby", "12:00 server is shutting down")
	if late.dropped.Load() {
		t.Error("a shutdown after the run counted as a drop")
	}
}

func TestFailuresSumEverythingThatWentWrong(t *testing.T) {
	rep := &report{}
	if f := failures(rep); f.Total != 0 || !strings.HasPrefix(f.String(), "PASS") {
		t.Errorf("a clean run: %+v %q", f, f)
	}
	rep.Sessions.Failed = 1
	rep.Dropped = droppedReport{Sessions: 5, Evicted: 3}
	rep.Deliveries.Lost = 7
	f := failures(rep)
	want := failuresReport{ConnectFailed: 1, Evicted: 3, Disconnected: 2, Lost: 7, Total: 13}
	if f != want {
		t.Errorf("got %+v, want %+v", f, want)
	}
	if s := f.String(); !strings.HasPrefix(s, "FAIL: 13 failures") || !strings.Contains(s, "3 evicted") {
		t.Errorf("summary %q", s)
	}
}

func TestSummarizeScreens(t *testing.T) {
	// Four screens; the third had nothing due (it came after the sends).
	got := summarizeScreens([]int{10, 10, 0, 8}, []int{10, 7, 0, 8})
	want := screensReport{Screens: 3, Complete: 2, Due: 10, SeenMin: 7, SeenP50: 8, SeenMean: 25.0 / 3}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := summarizeScreens(nil, nil); got != (screensReport{}) {
		t.Errorf("no screens: %+v", got)
	}
}

func TestMissReportPerScreen(t *testing.T) {
	r := testRun(t, 4)
	a, b := newSession(r, 0), newSession(r, 1)
	for _, s := range []*session{a, b} {
		s.readyAt.Store(1) // there before every send
		close(s.done)
	}
	for _, i := range []int{0, 1, 2, 3} {
		a.seen[0] |= 1 << i
	}
	b.seen[0] |= 1<<0 | 1<<3
	m, screens := r.missReport([]*session{a, b})
	if m.Deliveries != 2 || m.Sessions != 1 || m.WorstSession != 2 {
		t.Errorf("misses %+v", m)
	}
	if screens.Screens != 2 || screens.Complete != 1 || screens.SeenMin != 2 || screens.Due != 4 {
		t.Errorf("screens %+v", screens)
	}
}

func TestRaiseFileLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	n := int(min(lim.Max, 1<<20)) - 256
	if n < 1 {
		t.Fatalf("hard limit of open files %d", lim.Max)
	}
	got, err := raiseFileLimit(n)
	if err != nil {
		t.Fatal(err)
	}
	if got < uint64(n) {
		t.Errorf("limit %d, want at least %d", got, n)
	}
}

// TestMissReportByRoom: with -rooms, a message is due only to the
// sessions of its sender's room: a session of another room that did not
// see it missed nothing.
func TestMissReportByRoom(t *testing.T) {
	r := testRun(t, 4)
	r.cfg.Rooms = 2
	a, b := newSession(r, 0), newSession(r, 1) // rooms 0 and 1, and the senders 0 and 1
	r.roomOf = []int{r.cfg.room(a.idx), r.cfg.room(b.idx)}
	for _, s := range []*session{a, b} {
		s.readyAt.Store(1)
		close(s.done)
	}
	a.seen[0] |= 1<<0 | 1<<2 // sender 0's messages: 0 and 2
	b.seen[0] |= 1 << 1      // of sender 1's, b saw 1 only
	m, screens := r.missReport([]*session{a, b})
	if m.Deliveries != 1 || m.Sessions != 1 || m.Nowhere != 1 {
		t.Errorf("misses %+v, want message 3 missed by b alone", m)
	}
	if screens.Due != 2 || screens.Screens != 2 {
		t.Errorf("screens %+v, want 2 messages due to each", screens)
	}
}
