package ui

import (
	"bytes"
	"sync/atomic"
)

// The terminal's answers about a mode (DECRPM) start with this:
// CSI ? mode ; value $ y.
const reportPrefix = "\x1b[?"

// maxReport is the longest answer looked for: a mode of four digits, a
// value of up to three.
const maxReport = len(reportPrefix) + len("2027;999$y")

// The modes the screen asks about (see Screen.Start).
const (
	modeGraphemes = 2027 // grapheme clusters drawn whole
	modeMargins   = 69   // left and right margins (DECLRMM)
)

// modeReports watches the terminal's input for its answers about the
// modes the screen asked about. The input's reader writes them, the
// program's goroutine reads them.
type modeReports struct {
	tail []byte // the end of the last read, which may hold the start of an answer; reader's only
	// Each answer's value plus one; 0 until one came.
	graphemesValue, marginsValue atomic.Int32
}

// watch looks for answers in b, the next bytes of input.
func (mr *modeReports) watch(b []byte) {
	if len(mr.tail) == 0 && bytes.IndexByte(b, 0x1b) < 0 {
		return
	}
	data := append(mr.tail, b...)
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte(reportPrefix))
		if j < 0 {
			break
		}
		i += j + len(reportPrefix)
		mode, value, ok := parseReport(data[i:min(i+maxReport, len(data))])
		if !ok {
			continue
		}
		switch mode {
		case modeGraphemes:
			mr.graphemesValue.Store(int32(value) + 1)
		case modeMargins:
			mr.marginsValue.Store(int32(value) + 1)
		}
	}
	// Keep what may be the start of an answer that the next read ends.
	last := data[len(data)-min(len(data), maxReport):]
	if k := bytes.LastIndexByte(last, 0x1b); k >= 0 {
		mr.tail = append(mr.tail[:0:0], last[k:]...)
	} else {
		mr.tail = nil
	}
}

// parseReport reads "mode;value$y" at the start of b: a mode of one to
// four digits, a value of one to three.
func parseReport(b []byte) (mode, value int, ok bool) {
	mode, n := leadingNumber(b, 4)
	if n == 0 || n == len(b) || b[n] != ';' {
		return 0, 0, false
	}
	b = b[n+1:]
	value, n = leadingNumber(b, 3)
	if n == 0 || !bytes.HasPrefix(b[n:], []byte("$y")) {
		return 0, 0, false
	}
	return mode, value, true
}

// leadingNumber reads the decimal digits at the start of b, no more than
// most, and returns their value and how many there were.
func leadingNumber(b []byte, most int) (v, n int) {
	for n < len(b) && n < most && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + int(b[n]-'0')
		n++
	}
	return v, n
}

// graphemes returns the terminal's answer about mode 2027, if it came:
// 0 not recognized, 1 set, 2 reset, 3 permanently set, 4 permanently reset.
func (mr *modeReports) graphemes() (int, bool) { return answer(&mr.graphemesValue) }

// margins returns the terminal's answer about mode 69, if it came.
func (mr *modeReports) margins() (int, bool) { return answer(&mr.marginsValue) }

func answer(v *atomic.Int32) (int, bool) {
	n := v.Load()
	return int(n) - 1, n > 0
}
