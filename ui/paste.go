package ui

import (
	"io"
	"sync/atomic"
	"unicode/utf8"

	"github.com/sshchat/sshchat/internal/pace"
)

// Bracketed paste markers: a terminal in bracketed paste mode (see Screen)
// sends a paste between them.
const (
	pasteStart = "\x1b[200~"
	pasteEnd   = "\x1b[201~"
)

// maxRun is how long a run of text may end a read before the read is cut
// short: see InputReader.Read.
const maxRun = 64

// InputReader reads a terminal's input for a program and bounds what the
// program holds of it. Bubble Tea v1 keeps a paste, and a run of text that
// fills its buffer, until their end arrives, scanning all of it again on
// every read: unbounded memory, and time that grows with the square of
// the length. Here only the first bytes of a paste go on, up to its end
// marker (the rest is discarded and counted, for the person to be told),
// and a read never ends in a long run of text. Its cost is linear.
type InputReader struct {
	r        io.Reader
	maxPaste int

	buf []byte // read from r
	out []byte // for the program, not read yet
	err error  // from r, returned once out is empty

	inPaste bool
	matched int   // bytes of the marker looked for (start, or end in a paste) seen last
	kept    int   // bytes of the current paste passed on
	dropped int64 // bytes of the current paste discarded

	cut atomic.Int64 // bytes discarded from pastes that ended, not yet told

	reports modeReports // the terminal's answers about modes 2027 and 69, if any

	pace *pace.Pace // of the bytes passed on, if set (see Pace)
}

// NewInputReader reads r, passing on at most maxPaste bytes of each
// bracketed paste.
func NewInputReader(r io.Reader, maxPaste int) *InputReader {
	return &InputReader{r: r, maxPaste: maxPaste, buf: make([]byte, 4096)}
}

// Pace bounds what the program is given to perSecond bytes a second, in
// bursts of up to burst bytes; call it before the first Read. Every key,
// escape sequence and run of text costs the program an update and
// perhaps a frame, so a client that sends input as fast as its link goes
// would have the server do nothing else. While the pace holds input back
// the reader does not read: the client's writes wait (SSH flow control),
// and nothing is lost. What a paste has discarded does not count.
func (ir *InputReader) Pace(perSecond, burst int) {
	ir.pace = pace.New(float64(perSecond), burst)
}

// Read reads what the program may parse. Bubble Tea takes a read that
// fills its buffer as possibly incomplete, and any other as complete: a
// read that would end in a long run of text ends one character sooner, so
// the run is parsed at once, and a shorter one never ends inside a
// character.
func (ir *InputReader) Read(p []byte) (int, error) {
	n := 0
	for {
		for len(ir.out) == 0 {
			if ir.err != nil {
				return 0, ir.err
			}
			ir.fill()
		}
		n = min(len(p), len(ir.out))
		if n == len(p) || ir.err != nil {
			break
		}
		if k := partialRune(ir.out[:n]); k < n {
			n -= k
			break
		}
		ir.fill() // only part of a character: wait for the rest
	}
	if n == len(p) && n > maxRun && textRun(ir.out[n-maxRun:n]) {
		n--
		for n > 1 && !utf8.RuneStart(ir.out[n]) {
			n--
		}
	}
	ir.wait(n)
	copy(p, ir.out[:n])
	ir.out = ir.out[n:]
	if len(ir.out) == 0 && cap(ir.out) > 64<<10 {
		ir.out = nil // let a large buffer go
	}
	return n, nil
}

// wait holds n bytes back for as long as the pace asks. A wait is at most
// a read's length at the pace (Bubble Tea reads 256 bytes at a time).
func (ir *InputReader) wait(n int) {
	if ir.pace == nil {
		return
	}
	ir.pace.WaitN(n)
}

// fill reads from r once, adding to out.
func (ir *InputReader) fill() {
	n, err := ir.r.Read(ir.buf)
	ir.reports.watch(ir.buf[:n])
	ir.scan(ir.buf[:n])
	ir.err = err
}

// partialRune is how many bytes at the end of b begin a character that
// is not complete.
func partialRune(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return 0
			}
			return len(b) - i
		}
	}
	return 0
}

// textRun reports whether b is all text: no space, control character or
// escape, which end a run for Bubble Tea.
func textRun(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// scan passes b on, minus what is over the limit of a paste, following
// the paste markers across reads.
func (ir *InputReader) scan(b []byte) {
	for _, c := range b {
		marker := pasteStart
		if ir.inPaste {
			marker = pasteEnd
		}
		if c == marker[ir.matched] {
			ir.matched++
			if !ir.inPaste {
				ir.out = append(ir.out, c) // a key is never held back
			}
			if ir.matched == len(marker) {
				ir.matched = 0
				ir.markerSeen()
			}
			continue
		}
		if ir.inPaste && ir.matched > 0 {
			ir.pasted([]byte(marker[:ir.matched]))
		}
		ir.matched = 0
		if c == marker[0] {
			ir.matched = 1
			if !ir.inPaste {
				ir.out = append(ir.out, c)
			}
			continue
		}
		if ir.inPaste {
			ir.pasted([]byte{c})
		} else {
			ir.out = append(ir.out, c)
		}
	}
}

// markerSeen starts or ends a paste; the start marker is out already.
func (ir *InputReader) markerSeen() {
	if !ir.inPaste {
		ir.inPaste, ir.kept, ir.dropped = true, 0, 0
		return
	}
	ir.out = append(ir.out, pasteEnd...)
	ir.inPaste = false
	if ir.dropped > 0 {
		ir.cut.Add(ir.dropped)
	}
}

// pasted passes on the bytes of a paste within its limit.
func (ir *InputReader) pasted(b []byte) {
	keep := max(0, min(len(b), ir.maxPaste-ir.kept))
	ir.out = append(ir.out, b[:keep]...)
	ir.kept += keep
	ir.dropped += int64(len(b) - keep)
}

// takeCut returns how many bytes were discarded from the pastes that ended
// since it was last called.
func (ir *InputReader) takeCut() int64 {
	if ir == nil {
		return 0
	}
	return ir.cut.Swap(0)
}
