package main

import (
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/vt"
)

// verifier checks the stream scanner of one session against a terminal
// emulator fed the same bytes: every token the scanner finds in a read
// must be on the emulated screen right after that read, and every token
// on the emulated screen must have been found by the scanner.
type verifier struct {
	mu      sync.Mutex
	emu     *vt.Emulator
	drained chan struct{}
	pending []token // found by the scanner in the current read
	closed  bool
	res     verifyReport
}

// verifyReport is what the check found.
type verifyReport struct {
	Enabled         bool     `json:"enabled"`
	Screens         int      `json:"screens_checked"`
	Tokens          int      `json:"tokens_checked"`
	MissingOnScreen int      `json:"found_but_not_on_screen"`
	MissedByScanner int      `json:"on_screen_but_not_found"`
	Examples        []string `json:"examples,omitempty"`
}

// screenToken is a token as the text of a transcript line on the screen.
var screenToken = regexp.MustCompile(`: t(\d+)x(\d+)r(\d+)z`)

func newVerifier(width, height int) *verifier {
	v := &verifier{emu: vt.NewEmulator(width, height), drained: make(chan struct{})}
	v.res.Enabled = true
	// The emulator answers terminal queries on its input side: drain it,
	// or a query would block its Write.
	go func() {
		defer close(v.drained)
		_, _ = io.Copy(io.Discard, v.emu)
	}()
	return v
}

// write feeds the emulator the bytes the scanner is about to scan.
func (v *verifier) write(p []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.closed {
		_, _ = v.emu.Write(p)
	}
}

// found notes a token the scanner found in the current read.
func (v *verifier) found(t token) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pending = append(v.pending, t)
}

// check compares the screen with what the scanner found. It runs on the
// reader goroutine of s, after each read.
func (v *verifier) check(s *session) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	screen := v.emu.String()
	v.res.Screens++
	for _, t := range v.pending {
		v.res.Tokens++
		text := string(appendToken([]byte(": "), t))
		if !strings.Contains(screen, text) {
			v.res.MissingOnScreen++
			v.example("found but not on screen: " + text[2:])
		}
	}
	v.pending = v.pending[:0]
	for _, m := range screenToken.FindAllStringSubmatch(screen, -1) {
		t, ok := parseScreenToken(m)
		if !ok || t.run != s.r.id {
			continue
		}
		if _, in := s.r.messageIndex(t); in && !s.hasSeen(t) {
			v.res.MissedByScanner++
			v.example("on screen but not found: " + m[0][2:])
		}
	}
}

func parseScreenToken(m []string) (token, bool) {
	var n [3]int
	for i := range n {
		v, err := strconv.Atoi(m[i+1])
		if err != nil {
			return token{}, false
		}
		n[i] = v
	}
	return token{sender: n[0], seq: n[1], run: n[2]}, true
}

func (v *verifier) example(s string) {
	if len(v.res.Examples) < 5 {
		v.res.Examples = append(v.res.Examples, s)
	}
}

// close stops the emulator: its input side is closed, which ends the
// drain. (Emulator.Close is not used: it races with a pending Write.)
func (v *verifier) close() {
	v.mu.Lock()
	if !v.closed {
		v.closed = true
		if c, ok := v.emu.InputPipe().(io.Closer); ok {
			_ = c.Close()
		}
	}
	v.mu.Unlock()
	select {
	case <-v.drained:
	case <-time.After(time.Second):
	}
}

// report is the result of the check so far.
func (v *verifier) report() verifyReport {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.res
	r.Examples = append([]string(nil), r.Examples...)
	return r
}
