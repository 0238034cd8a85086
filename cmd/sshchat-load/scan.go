package main

import "bytes"

// The scanner finds message tokens in a terminal's output stream without
// emulating the terminal. The renderer writes every changed line whole, so
// the text of a transcript line is contiguous in the stream once escape
// sequences are dropped. Colour codes (SGR) are transparent; every other
// escape sequence and every control character separates text.

// sep stands for anything that separates two runs of text.
const sep = '\n'

// stripState is where the stripper is inside an escape sequence.
type stripState uint8

const (
	stGround    stripState = iota
	stEsc                  // after ESC
	stEscInter             // ESC and intermediate bytes, waiting for the final byte
	stCSI                  // control sequence: parameters, intermediates, final byte
	stString               // OSC, DCS, SOS, PM, APC: until BEL or ST
	stStringEsc            // ESC inside a string: ST if a backslash follows
)

// stripper drops escape sequences from a byte stream that may be cut
// anywhere: its state carries over from one write to the next.
type stripper struct {
	state   stripState
	lastSep bool // the last byte emitted was sep: do not repeat it
}

// strip appends the text of p to dst and returns it. Runs of text and of
// control sequence parameters are taken whole; the rest byte by byte.
func (s *stripper) strip(dst, p []byte) []byte {
	for i := 0; i < len(p); {
		switch s.state {
		case stGround:
			if j := textRun(p, i); j > i {
				dst = append(dst, p[i:j]...)
				s.lastSep = false
				i = j
				continue
			}
		case stCSI:
			if j := paramRun(p, i); j > i {
				i = j
				continue
			}
		}
		dst = s.step(dst, p[i])
		i++
	}
	return dst
}

// textRun is the end of the printable bytes of p from i.
func textRun(p []byte, i int) int {
	for i < len(p) && p[i] >= 0x20 && p[i] != 0x7f {
		i++
	}
	return i
}

// paramRun is the end of the parameter and intermediate bytes of a control
// sequence in p from i.
func paramRun(p []byte, i int) int {
	for i < len(p) && p[i] >= 0x20 && p[i] <= 0x3f {
		i++
	}
	return i
}

func (s *stripper) step(dst []byte, b byte) []byte {
	if b == 0x18 || b == 0x1a { // CAN, SUB: abort any sequence
		s.state = stGround
		return s.emitSep(dst)
	}
	switch s.state {
	case stGround:
		return s.ground(dst, b)
	case stEsc:
		return s.esc(dst, b)
	case stEscInter:
		switch {
		case b == 0x1b:
			s.state = stEsc
		case b >= 0x30 && b <= 0x7e:
			s.state = stGround
			return s.emitSep(dst)
		}
	case stCSI:
		switch {
		case b == 0x1b:
			s.state = stEsc
		case b >= 0x40 && b <= 0x7e:
			s.state = stGround
			if b != 'm' { // SGR only changes colours: the text goes on
				return s.emitSep(dst)
			}
		}
	case stString:
		switch b {
		case 0x07:
			s.state = stGround
			return s.emitSep(dst)
		case 0x1b:
			s.state = stStringEsc
		}
	case stStringEsc:
		if b == '\\' {
			s.state = stGround
			return s.emitSep(dst)
		}
		s.state = stEsc
		return s.esc(dst, b)
	}
	return dst
}

func (s *stripper) ground(dst []byte, b byte) []byte {
	switch {
	case b == 0x1b:
		s.state = stEsc
		return dst
	case b < 0x20 || b == 0x7f:
		return s.emitSep(dst)
	}
	s.lastSep = false
	return append(dst, b)
}

func (s *stripper) esc(dst []byte, b byte) []byte {
	switch {
	case b == '[':
		s.state = stCSI
	case b == ']' || b == 'P' || b == 'X' || b == '^' || b == '_':
		s.state = stString
	case b == 0x1b:
		// ESC ESC: the first one is dropped
	case b >= 0x20 && b <= 0x2f:
		s.state = stEscInter
	default:
		s.state = stGround
		return s.emitSep(dst)
	}
	return dst
}

func (s *stripper) emitSep(dst []byte) []byte {
	if s.lastSep {
		return dst
	}
	s.lastSep = true
	return append(dst, sep)
}

// token names one message: t<sender>x<seq>r<run>z. The run number keeps
// tokens of another run (shown as history) apart from this run's.
type token struct {
	sender, seq, run int
}

// maxDigits bounds each number of a token.
const maxDigits = 9

// matchState is where the token matcher is inside a token.
type matchState uint8

const (
	mIdle   matchState = iota
	mSender            // after "t"
	mSeq               // after "x"
	mRun               // after "r"
)

// tokenMatcher finds tokens in stripped text that may be cut anywhere. A
// token counts only as the text of a transcript line, right after the
// ": " that ends "HH:MM name: ", so that a token still being typed in the
// input line ("> t1x2r3z") is not taken for a delivered message.
type tokenMatcher struct {
	prev1, prev2 byte // the last two bytes of the text fed before
	state        matchState
	digits       int // digits of the current number
	cur          token
}

// feed scans text and calls found for each token, in stream order.
func (m *tokenMatcher) feed(text []byte, found func(token)) {
	for i := 0; i < len(text); i++ {
		if m.state == mIdle {
			k := bytes.IndexByte(text[i:], 't')
			if k < 0 {
				break
			}
			i += k
			m.idle(text, i)
			continue
		}
		m.step(text, i, found)
	}
	m.remember(text)
}

// step takes text[i] inside a token.
func (m *tokenMatcher) step(text []byte, i int, found func(token)) {
	b := text[i]
	if b >= '0' && b <= '9' {
		if m.digits == maxDigits {
			m.state = mIdle
			return
		}
		m.digits++
		m.add(int(b - '0'))
		return
	}
	next, ok := m.after(b)
	if !ok || m.digits == 0 {
		m.state = mIdle
		m.idle(text, i) // the byte may start another token
		return
	}
	if next == mIdle {
		m.state = mIdle
		found(m.cur)
		return
	}
	m.start(next)
}

// idle starts a token at a "t" right after ": ".
func (m *tokenMatcher) idle(text []byte, i int) {
	if text[i] == 't' && m.at(text, i-2) == ':' && m.at(text, i-1) == ' ' {
		m.start(mSender)
	}
}

// at is text[i], where i may reach back into the previous text by two.
func (m *tokenMatcher) at(text []byte, i int) byte {
	switch {
	case i >= 0:
		return text[i]
	case i == -1:
		return m.prev1
	case i == -2:
		return m.prev2
	}
	return 0
}

// remember keeps the last two bytes of the text for the next feed.
func (m *tokenMatcher) remember(text []byte) {
	switch n := len(text); {
	case n >= 2:
		m.prev2, m.prev1 = text[n-2], text[n-1]
	case n == 1:
		m.prev2, m.prev1 = m.prev1, text[0]
	}
}

// after is the state a letter leads to from the current one.
func (m *tokenMatcher) after(b byte) (matchState, bool) {
	switch {
	case m.state == mSender && b == 'x':
		return mSeq, true
	case m.state == mSeq && b == 'r':
		return mRun, true
	case m.state == mRun && b == 'z':
		return mIdle, true
	}
	return mIdle, false
}

func (m *tokenMatcher) start(s matchState) {
	if s == mSender {
		m.cur = token{}
	}
	m.state, m.digits = s, 0
}

func (m *tokenMatcher) add(d int) {
	switch m.state {
	case mSender:
		m.cur.sender = m.cur.sender*10 + d
	case mSeq:
		m.cur.seq = m.cur.seq*10 + d
	case mRun:
		m.cur.run = m.cur.run*10 + d
	}
}

// Words on a screen that say a session is ending.
var (
	wordShutdown = []byte("shutting down")
	wordServer   = []byte("sshchat: ")
	wordDropped  = []byte("disconnected")
	wordEvicted  = []byte("fell too far behind") // the server's words for an eviction
	wordThrottle = []byte("slow down")
)

// keepText is how much stripped text is kept from one read to the next so
// that a word cut between two reads is still found: at least the longest
// word less one byte.
const keepText = 32

// screenScanner is the whole scan of one session's output: stripper,
// token matcher and the words that say the session is ending.
type screenScanner struct {
	strip  stripper
	tokens tokenMatcher
	buf    []byte // kept text, then the text of the current read
}

// scanResult is what one read showed.
type scanResult struct {
	text      bool   // the read had text in it
	shutdown  bool   // "shutting down" is on the screen
	ended     string // "fell too far behind", "disconnected" or "sshchat: " when on the screen
	throttled bool   // "slow down": a message was refused by the rate limit
}

func newScreenScanner() *screenScanner {
	return &screenScanner{buf: make([]byte, 0, 16<<10)}
}

// scan takes the next bytes of the stream.
func (s *screenScanner) scan(p []byte, found func(token)) scanResult {
	kept := len(s.buf)
	s.buf = s.strip.strip(s.buf, p)
	text := s.buf[kept:]
	s.tokens.feed(text, found)

	var r scanResult
	// Separators never repeat: more than one byte means some text.
	r.text = len(text) > 1 || len(text) == 1 && text[0] != sep
	r.shutdown = bytes.Contains(s.buf, wordShutdown)
	r.throttled = bytes.Contains(s.buf, wordThrottle)
	switch {
	case bytes.Contains(s.buf, wordEvicted):
		r.ended = string(wordEvicted)
	case bytes.Contains(s.buf, wordDropped):
		r.ended = string(wordDropped)
	case bytes.Contains(s.buf, wordServer):
		r.ended = string(wordServer)
	}
	s.keep()
	return r
}

// keep moves the last keepText bytes of text to the front of buf.
func (s *screenScanner) keep() {
	if n := len(s.buf); n > keepText {
		copy(s.buf, s.buf[n-keepText:])
		s.buf = s.buf[:keepText]
	}
}
