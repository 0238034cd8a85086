package ui

import (
	"bytes"
	"strconv"
	"sync/atomic"
)

// reportPrefix starts the terminal's answer about mode 2027 (DECRPM):
// CSI ? 2027 ; value $ y.
const reportPrefix = "\x1b[?2027;"

// maxReport is the longest answer looked for, the value's digits included.
const maxReport = len(reportPrefix) + 4

// modeReports watches the terminal's input for its answer about mode
// 2027. The input's reader writes it, the program's goroutine reads it.
type modeReports struct {
	tail  []byte       // the end of the last read, which may hold the start of an answer; reader's only
	value atomic.Int32 // the answer's value plus one; 0 until one came
}

// watch looks for an answer in b, the next bytes of input.
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
		end := bytes.Index(data[i:min(i+6, len(data))], []byte("$y"))
		if end < 0 {
			continue
		}
		if v, err := strconv.Atoi(string(data[i : i+end])); err == nil && v >= 0 && v < 1000 {
			mr.value.Store(int32(v) + 1)
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

// graphemes returns the terminal's answer about mode 2027, if it came:
// 0 not recognized, 1 set, 2 reset, 3 permanently set, 4 permanently reset.
func (mr *modeReports) graphemes() (int, bool) {
	v := mr.value.Load()
	return int(v) - 1, v > 0
}
