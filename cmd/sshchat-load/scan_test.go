package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// scanAll feeds the chunks to a fresh scanner and returns the tokens found.
func scanAll(chunks ...string) ([]token, scanResult) {
	sc := newScreenScanner()
	var got []token
	var last scanResult
	for _, c := range chunks {
		r := sc.scan([]byte(c), func(t token) { got = append(got, t) })
		last.text = last.text || r.text
		last.shutdown = last.shutdown || r.shutdown
		last.throttled = last.throttled || r.throttled
		if r.ended != "" {
			last.ended = r.ended
		}
	}
	return got, last
}

// A transcript line as the renderer draws it: styled time and name, then
// the message text, then "erase to the end of the line".
const line = "\x1b[2;1H\x1b[38;5;245m12:34\x1b[0m \x1b[1;38;5;81mload00001\x1b[0m: t12x345r67z\x1b[K"

func TestScanFindsToken(t *testing.T) {
	got, res := scanAll(line)
	want := []token{{sender: 12, seq: 345, run: 67}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if !res.text {
		t.Error("no text reported")
	}
}

func TestScanTokenSplitAcrossReads(t *testing.T) {
	want := []token{{sender: 12, seq: 345, run: 67}}
	for i := 1; i < len(line); i++ {
		got, _ := scanAll(line[:i], line[i:])
		if !slices.Equal(got, want) {
			t.Fatalf("split at %d (%q | %q): got %v, want %v", i, line[:i], line[i:], got, want)
		}
	}
	// Byte by byte.
	chunks := strings.Split(line, "")
	if got, _ := scanAll(chunks...); !slices.Equal(got, want) {
		t.Fatalf("byte by byte: got %v, want %v", got, want)
	}
}

func TestScanColourCodesAreTransparent(t *testing.T) {
	cases := []string{
		"x: \x1b[31mt1x2r3z\x1b[0m",            // the whole text coloured
		"x: t1\x1b[1mx2\x1b[0mr3z",             // colour changes inside the token
		"x:\x1b[0m \x1b[38;2;1;2;3mt1x2r3z",    // between the colon and the space
		"x: \x1b[38:5:75mt1x2r3\x1b[22;23mz\r", // colon parameters
	}
	for _, c := range cases {
		got, _ := scanAll(c)
		if want := []token{{1, 2, 3}}; !slices.Equal(got, want) {
			t.Errorf("%q: got %v, want %v", c, got, want)
		}
	}
}

func TestScanIgnoresTokensInsideSequences(t *testing.T) {
	cases := []string{
		"\x1b]0;x: t1x2r3z\x07",        // window title, ended by BEL
		"\x1b]2;x: t1x2r3z\x1b\\",      // window title, ended by ST
		"\x1bPq x: t1x2r3z\x1b\\",      // DCS
		"\x1b_x: t1x2r3z\x1b\\",        // APC
		"> t1x2r3z",                    // the input line: no ": " before it
		"x:\x1b[3C t1x2r3z",            // a cursor move between colon and space
		"x: t1x2\x1b[5Gr3z",            // a cursor move inside the token
		"x: t1x2r3",                    // not ended
		"x: t1xr3z",                    // a number missing
		"x: t1234567890x2r3z",          // a number too long
		"x: t1x2r3\nz",                 // a line break inside
		"x: \x1b[31m\x1b]0;t\x07t1x2r", // title inside, token cut short
	}
	for _, c := range cases {
		if got, _ := scanAll(c); len(got) != 0 {
			t.Errorf("%q: got %v, want none", c, got)
		}
	}
}

func TestScanSequenceSplitAcrossReads(t *testing.T) {
	// The title holds what looks like a token; cut anywhere, it stays out.
	s := "\x1b]0;a: t9x9r9z\x1b\\b: t1x2r3z"
	for i := 1; i < len(s); i++ {
		got, _ := scanAll(s[:i], s[i:])
		if want := []token{{1, 2, 3}}; !slices.Equal(got, want) {
			t.Fatalf("split at %d: got %v, want %v", i, got, want)
		}
	}
}

func TestScanRestartsAfterFalseStart(t *testing.T) {
	got, _ := scanAll("a: tx: t5x6r7z b: t8x9r1z")
	if want := []token{{5, 6, 7}, {8, 9, 1}}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestScanWords(t *testing.T) {
	_, res := scanAll("\x1b[2;1H12:00 server is shut", "ting down\x1b[K")
	if !res.shutdown {
		t.Error("shutting down cut across reads not found")
	}
	_, res = scanAll("\x1b[?1049lsshchat: discon", "nected: this session fell too far ", "behind the chat\r\n")
	if res.ended != "fell too far behind" {
		t.Errorf("ended = %q, want fell too far behind", res.ended)
	}
	_, res = scanAll("sshchat: discon", "nected: kicked by boss\r\n")
	if res.ended != "disconnected" {
		t.Errorf("ended = %q, want disconnected", res.ended)
	}
	_, res = scanAll("12:00 ← load00042 left (evicted: fell 64 events behind)")
	if res.ended != "" {
		t.Errorf("another session's eviction: ended = %q, want none", res.ended)
	}
	_, res = scanAll("ssh", "chat: the server is shutting down\r\n")
	if res.ended != "sshchat: " || !res.shutdown {
		t.Errorf("got %+v, want sshchat: and shutting down", res)
	}
	_, res = scanAll("\x1b[39;1Hslow ", "down: at most 5 messages at once, then 1 a second\x1b[K")
	if !res.throttled {
		t.Error("slow down cut across reads not found")
	}
	_, res = scanAll(line)
	if res.ended != "" || res.shutdown || res.throttled {
		t.Errorf("a message line: got %+v", res)
	}
}

// testRun is a run with messages of 2 senders, all already sent.
func testRun(t *testing.T, messages int) *run {
	t.Helper()
	cfg := config{Senders: 2, Rate: float64(messages), Duration: time.Second}
	r := newRun(cfg, nil)
	for i := range r.sendAt {
		r.sendAt[i].Store(1)
	}
	return r
}

func TestSessionCountsRepaintsOnce(t *testing.T) {
	r := testRun(t, 10)
	s := newSession(r, 0)
	s.readyAt.Store(1)
	sc := newScreenScanner()
	tok := func(sender, seq int) string {
		return "\x1b[5;1H12:00 \x1b[1mload00001\x1b[0m: " + string(appendToken(nil, token{sender, seq, r.id})) + "\x1b[K"
	}
	// The same lines drawn again and again, as when the screen scrolls,
	// and a token of another run.
	frames := []string{
		tok(0, 0),
		tok(0, 0) + tok(1, 0),
		tok(0, 0) + tok(1, 0) + tok(0, 1),
		tok(1, 0) + tok(0, 1) + "\x1b[9;1H12:00 x: t0x2r" + "0z",
	}
	for _, f := range frames {
		s.scan(sc, []byte(f))
	}
	if s.delivered != 3 || r.delivered.Load() != 3 {
		t.Errorf("delivered %d (run %d), want 3", s.delivered, r.delivered.Load())
	}
	if r.latency.count() != 3 {
		t.Errorf("latency samples %d, want 3", r.latency.count())
	}
	if r.foreign.Load() != 1 {
		t.Error("the token of another run was not counted as foreign")
	}
	for _, tk := range []token{{0, 0, r.id}, {1, 0, r.id}, {0, 1, r.id}} {
		if !s.hasSeen(tk) {
			t.Errorf("%v not seen", tk)
		}
	}
}

func TestSessionHistoryIsNotADelivery(t *testing.T) {
	r := testRun(t, 4)
	s := newSession(r, 0)
	s.readyAt.Store(100) // the session came after the messages were sent
	sc := newScreenScanner()
	s.scan(sc, []byte("a: "+string(appendToken(nil, token{1, 1, r.id}))))
	if s.delivered != 0 || r.history.Load() != 1 {
		t.Errorf("delivered %d, history %d; want 0 and 1", s.delivered, r.history.Load())
	}
}

func TestAppendTokenRoundTrip(t *testing.T) {
	for _, tk := range []token{{0, 0, 1}, {99, 12345, 9999}} {
		got, _ := scanAll("x: " + string(appendToken(nil, tk)))
		if !slices.Equal(got, []token{tk}) {
			t.Errorf("%v: got %v", tk, got)
		}
	}
}

// frames is a synthetic screen stream: full repaints of a transcript of
// message lines, each drawn with colours, cursor moves and erases, as the
// renderer draws them, and the tokens on it in order of first drawing.
func frames(rng *rand.Rand, n int) ([]byte, []token) {
	var b []byte
	var lines []token
	var want []token
	for f := range n {
		b = append(b, "\x1b[?25l\x1b]0;chat\x07"...)
		t := token{sender: rng.IntN(100), seq: f, run: 42}
		lines = append(lines, t)
		want = append(want, t)
		if len(lines) > 30 {
			lines = lines[1:]
		}
		for row, tk := range lines {
			b = fmt.Appendf(b, "\x1b[%d;1H\x1b[38;5;245m12:%02d\x1b[0m \x1b[1;38;5;%dmload%05d\x1b[0m: ", row+1, row, 81+row%5, tk.sender)
			b = appendToken(b, tk)
			b = append(b, " é\x1b[K"...)
		}
		b = append(b, "\x1b[40;1H\x1b[38;5;75m> \x1b[0mt1x2r42z\x1b[7m \x1b[0m\r\n"...)
	}
	return b, want
}

func TestScanRandomSplits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	stream, want := frames(rng, 50)
	for range 200 {
		sc := newScreenScanner()
		seen := map[token]bool{}
		var got []token
		for rest := stream; len(rest) > 0; {
			n := min(1+rng.IntN(300), len(rest))
			sc.scan(rest[:n], func(tk token) {
				if !seen[tk] {
					seen[tk] = true
					got = append(got, tk)
				}
			})
			rest = rest[n:]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %d tokens, want %d: %v", len(got), len(want), got)
		}
	}
}

func BenchmarkScan(b *testing.B) {
	stream, _ := frames(rand.New(rand.NewPCG(5, 6)), 20)
	sc := newScreenScanner()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		for rest := stream; len(rest) > 0; {
			n := min(8<<10, len(rest))
			sc.scan(rest[:n], func(token) {})
			rest = rest[n:]
		}
	}
}

// FuzzScanSplit: cutting the stream anywhere changes nothing the scanner
// finds.
func FuzzScanSplit(f *testing.F) {
	f.Add([]byte(line), 10)
	f.Add([]byte("\x1b]0;a: t9x9r9z\x1b\\b: t1x2r3z"), 5)
	f.Add([]byte("x: \x1b[31mt1\x1b[1mx2r3z shutting down"), 7)
	f.Fuzz(func(t *testing.T, stream []byte, cut int) {
		if len(stream) == 0 {
			return
		}
		cut = min(max(cut, 0), len(stream))
		whole, resWhole := scanAll(string(stream))
		split, resSplit := scanAll(string(stream[:cut]), string(stream[cut:]))
		if !slices.Equal(whole, split) {
			t.Fatalf("cut at %d: %v, whole: %v", cut, split, whole)
		}
		if resWhole.shutdown != resSplit.shutdown || resWhole.throttled != resSplit.throttled || resWhole.ended != resSplit.ended && resWhole.ended != "" && resSplit.ended != "" {
			t.Fatalf("cut at %d: words %+v, whole %+v", cut, resSplit, resWhole)
		}
	})
}

// TestSessionAnswersModesAsXterm: a session answers the question about
// mode 69 as xterm does, only when it comes.
func TestSessionAnswersModesAsXterm(t *testing.T) {
	s := newSession(testRun(t, 1), 0)
	var stdin bytes.Buffer
	s.stdin = &stdin
	if s.answerModes([]byte("\x1b[?1049h#lobby\x1b[K")) || stdin.Len() != 0 {
		t.Errorf("answered without the question: %q", stdin.String())
	}
	if !s.answerModes([]byte("\x1b[?1049h\x1b[?2004h\x1b[?2027$p\x1b[?69$p#lobby")) || stdin.String() != xtermAnswers {
		t.Errorf("the answer to the question: %q, want %q", stdin.String(), xtermAnswers)
	}
}
