package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/sshchat/sshchat/hub"
)

// MaxLine is the longest line, without its '\n', that the readers decode.
// Events are a few KiB at most; a longer line is reported as corrupt rather
// than read into memory.
const MaxLine = 1 << 20

// chunkSize is how much the readers take from the file at a time.
const chunkSize = 64 << 10

// Decode decodes one stored line (without its '\n') into an event. The line
// must be a single JSON object with a positive id and a non-empty type.
// Unknown fields are accepted so that an older binary can still read a log
// written by a newer one. Every error wraps ErrCorrupt.
func Decode(line []byte) (hub.Event, error) {
	if len(line) > MaxLine {
		return hub.Event{}, fmt.Errorf("%w: %d bytes, longer than %d", ErrCorrupt, len(line), MaxLine)
	}
	e, ok := decodeFast(line)
	// Unmarshal rejects anything after the object, so a line holding two
	// events glued together (a lost '\n') is corrupt, not half-read.
	if !ok {
		e = hub.Event{}
		if err := json.Unmarshal(line, &e); err != nil {
			return hub.Event{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	// "null" unmarshals without error; the id check rejects it too.
	if e.ID <= 0 {
		return hub.Event{}, fmt.Errorf("%w: id %d is not positive", ErrCorrupt, e.ID)
	}
	if e.Type == "" {
		return hub.Event{}, fmt.Errorf("%w: event %d has no type", ErrCorrupt, e.ID)
	}
	return e, nil
}

// A line is one complete line of the file, without its '\n'. A line longer
// than MaxLine is reported with long set and no bytes.
type line struct {
	off  int64 // byte offset of the line's first byte
	b    []byte
	long bool
}

func (l line) decode() (hub.Event, error) {
	if l.long {
		return hub.Event{}, fmt.Errorf("%w: longer than %d bytes", ErrCorrupt, MaxLine)
	}
	return Decode(l.b)
}

// forwardLines calls yield for each complete line of r, first to last, until
// yield returns false. A final fragment without '\n' is not a line: it is
// left for a later read. consumed counts the bytes through the last '\n'
// handed to yield. Memory stays under MaxLine plus one chunk whatever the
// line lengths. l.b is only valid during the call to yield.
func forwardLines(r io.Reader, yield func(line) bool) (consumed int64, err error) {
	br := bufio.NewReaderSize(r, chunkSize)
	var (
		long []byte // the start of a line longer than br's buffer
		size int    // length of the current line so far
	)
	for {
		frag, err := br.ReadSlice('\n')
		size += len(frag)
		switch {
		case err == nil:
			l := line{off: consumed, b: frag[:len(frag)-1]}
			if size-1 > MaxLine {
				l = line{off: consumed, long: true}
			} else if len(long) > 0 {
				long = append(long, l.b...)
				l.b = long
			}
			consumed += int64(size)
			size, long = 0, long[:0]
			if !yield(l) {
				return consumed, nil
			}
		case errors.Is(err, bufio.ErrBufferFull):
			if size <= MaxLine {
				long = append(long, frag...)
			}
		case errors.Is(err, io.EOF):
			return consumed, nil
		default:
			return consumed, err
		}
	}
}

// backLines calls yield for each complete line of r[:end], last to first,
// until yield returns false. end must be 0 or just past a '\n'. l.b is only
// valid during the call to yield: its memory is used again for the chunks
// read after, so that reading 64 MiB back does not allocate 64 MiB.
func backLines(r io.ReaderAt, end int64, yield func(line) bool) error {
	var (
		buf   []byte // r[pos:stop] where stop is just past the '\n' of the next line to yield
		pos   = end
		long  bool   // the next line is longer than MaxLine; buf was dropped
		spare []byte // memory no longer in buf, for the next chunk
	)
	// chunk returns a slice of length size that shares no memory with buf.
	chunk := func(size int) []byte {
		if cap(spare) >= size {
			c := spare[:size]
			spare = nil
			return c
		}
		return make([]byte, size, max(size, 2*chunkSize))
	}
	for {
		if len(buf) > 0 && !long {
			body := buf[:len(buf)-1]
			if i := bytes.LastIndexByte(body, '\n'); i >= 0 {
				if !yield(newLine(pos+int64(i)+1, body[i+1:])) {
					return nil
				}
				buf = buf[:i+1]
				continue
			}
			if pos == 0 {
				yield(newLine(0, body))
				return nil
			}
			if len(body) > MaxLine {
				long, spare, buf = true, buf[:0], nil
			}
		}
		if pos == 0 {
			if long {
				yield(line{off: 0, long: true})
			}
			return nil
		}
		n := min(chunkSize, pos)
		c := chunk(int(n) + len(buf))
		if err := readFullAt(r, c[:n], pos-n); err != nil {
			return err
		}
		pos -= n
		if !long {
			copy(c[n:], buf)
			spare, buf = buf[:0], c
			continue
		}
		// Skipping a long line: only its start matters.
		c = c[:n]
		i := bytes.LastIndexByte(c, '\n')
		if i < 0 {
			spare = c[:0]
			continue
		}
		if !yield(line{off: pos + int64(i) + 1, long: true}) {
			return nil
		}
		long, buf = false, c[:i+1]
	}
}

func newLine(off int64, b []byte) line {
	if len(b) > MaxLine {
		return line{off: off, long: true}
	}
	return line{off: off, b: b}
}

// committedEnd returns the offset just past the last '\n' in r[:size]: the
// end of the last line that was written completely. It is 0 if there is none.
func committedEnd(r io.ReaderAt, size int64) (int64, error) {
	c := make([]byte, min(chunkSize, size))
	for end := size; end > 0; {
		n := min(int64(len(c)), end)
		if err := readFullAt(r, c[:n], end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(c[:n], '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}

// readFullAt fills p from r at off. io.ReaderAt may return io.EOF along with
// a full read; only a short read is an error.
func readFullAt(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}
