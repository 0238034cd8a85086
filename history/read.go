package history

import (
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sshchat/sshchat/hub"
)

// Filter selects events. The zero Filter matches every event.
type Filter struct {
	// Types lists the event types to keep; empty keeps all.
	Types []string
	// User keeps the events of one user, named by display name (any letter
	// case) or by userID, the key fingerprint ("SHA256:...", exact).
	User string
	// Rooms lists the rooms to keep, by chatroomId as stored ("go",
	// "@direct" for direct messages); empty keeps all.
	Rooms []string
	// RoomKey, if set, is the form in which two room IDs are the same room
	// (look-alikes: registry.Canonical); nil compares them exactly.
	RoomKey func(id string) string
	// Since and Until keep events in [Since, Until); a zero bound is open.
	// An event is at the start of its second (Event.UnixTime).
	Since, Until time.Time
}

// Match reports whether f selects e.
func (f Filter) Match(e hub.Event) bool {
	if len(f.Types) > 0 && !slices.Contains(f.Types, e.Type) {
		return false
	}
	if len(f.Rooms) > 0 && !f.inRooms(e.ChatRoomID) {
		return false
	}
	if f.User != "" && e.UserID != f.User && !strings.EqualFold(e.Name, f.User) {
		return false
	}
	t := time.Unix(e.UnixTime, 0)
	if !f.Since.IsZero() && t.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !t.Before(f.Until) {
		return false
	}
	return true
}

func (f Filter) inRooms(id string) bool {
	if f.RoomKey == nil {
		return slices.Contains(f.Rooms, id)
	}
	k := f.RoomKey(id)
	return slices.ContainsFunc(f.Rooms, func(r string) bool { return f.RoomKey(r) == k })
}

// Record is one stored event with the line it was decoded from.
type Record struct {
	Event hub.Event
	Raw   []byte // the stored line without its '\n', as written
}

func newRecord(e hub.Event, raw []byte) Record {
	return Record{Event: e, Raw: slices.Clone(raw)}
}

// Scan streams the events of r that match f, in file order, with memory
// bounded by MaxLine whatever the size of r. A line that does not decode
// yields an error wrapping ErrCorrupt, naming its line number and offset,
// and the scan goes on; a read error is yielded last. A final fragment
// without '\n' is an unfinished write and is skipped.
func Scan(r io.Reader, f Filter) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		n := 0
		_, err := forwardLines(r, func(ln line) bool {
			n++
			e, err := ln.decode()
			if err != nil {
				return yield(Record{}, fmt.Errorf("line %d at offset %d: %w", n, ln.off, err))
			}
			if !f.Match(e) {
				return true
			}
			return yield(newRecord(e, ln.b), nil)
		})
		if err != nil {
			yield(Record{}, err)
		}
	}
}

// Tail returns the last n records of the file at path that match f, oldest
// first. It reads backwards from the end, so it is quick on a large log when
// the matches are recent. Corrupt lines and an unfinished last line are
// skipped; OnCorrupt reports the former.
func Tail(path string, n int, f Filter, opts ...ReadOption) ([]Record, error) {
	if n <= 0 {
		return nil, nil
	}
	o := newReadOptions(opts)
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tail log: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("tail log: %w", err)
	}
	end, err := committedEnd(file, st.Size())
	if err != nil {
		return nil, fmt.Errorf("tail log %s: %w", path, err)
	}
	recs, err := lastRecords(file, end, n, f, o.corrupt)
	if err != nil {
		return nil, fmt.Errorf("tail log %s: %w", path, err)
	}
	return recs, nil
}

// lastRecords returns the last n records of r[:end] that match f, oldest
// first. Each corrupt line it reads on the way goes to corrupt, if set, last
// first.
func lastRecords(r io.ReaderAt, end int64, n int, f Filter, corrupt func(error)) ([]Record, error) {
	var recs []Record
	err := backLines(r, end, func(ln line) bool {
		e, err := ln.decode()
		if err != nil {
			if corrupt != nil {
				corrupt(corruptAt(ln.off, err))
			}
			return true
		}
		if f.Match(e) {
			recs = append(recs, newRecord(e, ln.b))
		}
		return len(recs) < n
	})
	if err != nil {
		return nil, err
	}
	slices.Reverse(recs)
	return recs, nil
}

// corruptAt is the error OnCorrupt receives for the line at offset off.
func corruptAt(off int64, err error) error {
	return fmt.Errorf("line at offset %d: %w", off, err)
}

// DefaultPollInterval is how often Follow looks for new lines.
const DefaultPollInterval = 200 * time.Millisecond

// A ReadOption changes how Tail or Follow reads; each option says which of
// them honours it.
type ReadOption func(*readOptions)

type readOptions struct {
	poll    time.Duration
	backlog int
	corrupt func(error)
	started func() // if set, Follow calls it once the starting point is known
}

func newReadOptions(opts []ReadOption) readOptions {
	o := readOptions{poll: DefaultPollInterval}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// PollInterval sets how often Follow looks for new lines; d <= 0 keeps
// DefaultPollInterval.
func PollInterval(d time.Duration) ReadOption {
	return func(o *readOptions) {
		if d > 0 {
			o.poll = d
		}
	}
}

// Backlog makes Follow deliver first the last n matching records already in
// the file, as tail -n n -f does. They are read from the point where Follow
// starts, so no line is lost or repeated between the two, which calling Tail
// before Follow cannot promise.
func Backlog(n int) ReadOption { return func(o *readOptions) { o.backlog = n } }

// OnCorrupt makes Tail and Follow call fn for each complete line they skip
// because it does not decode, with an error wrapping ErrCorrupt that names
// the line's offset.
func OnCorrupt(fn func(error)) ReadOption { return func(o *readOptions) { o.corrupt = fn } }

// Follow calls fn, in order, for each matching record appended to the file
// at path after the call, as tail -f does; Backlog adds the last records
// already there. Only complete lines are delivered; corrupt ones are
// skipped.
//
// The file is polled. When path names a new file (rotation), Follow reads
// what remains of the old one, then the new one from its start. When the
// file shrinks below what was read (truncation), it reads again from the
// start; a truncation followed by regrowth past that point within one poll
// goes unseen.
//
// Follow returns only on failure: ctx.Err() when ctx is done, the error fn
// returned, or the error that stopped reading.
func Follow(ctx context.Context, path string, f Filter, fn func(Record) error, opts ...ReadOption) error {
	fw := &follower{path: path, filter: f, fn: fn, readOptions: newReadOptions(opts)}
	if err := fw.start(); err != nil {
		return fmt.Errorf("follow log: %w", err)
	}
	defer func() { fw.file.Close() }() // fw.file changes on rotation
	if fw.backlog > 0 {
		recs, err := lastRecords(fw.file, fw.off, fw.backlog, f, fw.corrupt)
		if err != nil {
			return fmt.Errorf("follow log %s: %w", path, err)
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	if fw.started != nil {
		fw.started()
	}
	t := time.NewTicker(fw.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if err := fw.step(); err != nil {
			return err
		}
	}
}

// follower is the state of one Follow call, owned by it.
type follower struct {
	path   string
	filter Filter
	fn     func(Record) error
	readOptions

	file *os.File
	off  int64 // just past the last complete line read from file
}

// onStart is for tests, which must not append before Follow has found where
// to start.
func onStart(fn func()) ReadOption { return func(o *readOptions) { o.started = fn } }

// start opens the file and skips what it holds: Backlog (or Tail) shows that.
func (fw *follower) start() error {
	f, err := os.Open(fw.path)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err == nil {
		fw.off, err = committedEnd(f, st.Size())
	}
	if err != nil {
		f.Close()
		return err
	}
	fw.file = f
	return nil
}

// step delivers what was appended since the last step and follows a
// rotation or truncation.
func (fw *follower) step() error {
	if err := fw.readNew(); err != nil {
		return err
	}
	cur, err := os.Stat(fw.path)
	if err != nil {
		// Between the rename and the creation of a new file the path is
		// missing: keep the old file and look again at the next poll.
		return nil
	}
	old, err := fw.file.Stat()
	if err != nil {
		return fmt.Errorf("follow log %s: %w", fw.path, err)
	}
	if os.SameFile(old, cur) {
		return nil
	}
	// Rotated: finish the old file, then start the new one from the top.
	if err := fw.readNew(); err != nil {
		return err
	}
	f, err := os.Open(fw.path)
	if err != nil {
		return nil // gone again: look at the next poll
	}
	fw.file.Close()
	fw.file, fw.off = f, 0
	return fw.readNew()
}

// readNew delivers the complete lines between off and the end of the file.
func (fw *follower) readNew() error {
	st, err := fw.file.Stat()
	if err != nil {
		return fmt.Errorf("follow log %s: %w", fw.path, err)
	}
	size := st.Size()
	if size < fw.off {
		fw.off = 0 // truncated
	}
	if size == fw.off {
		return nil
	}
	var ferr error
	n, err := forwardLines(io.NewSectionReader(fw.file, fw.off, size-fw.off), func(ln line) bool {
		e, err := ln.decode()
		if err != nil {
			if fw.corrupt != nil {
				fw.corrupt(corruptAt(fw.off+ln.off, err))
			}
			return true
		}
		if !fw.filter.Match(e) {
			return true
		}
		ferr = fw.fn(newRecord(e, ln.b))
		return ferr == nil
	})
	fw.off += n
	if ferr != nil {
		return ferr
	}
	if err != nil {
		return fmt.Errorf("follow log %s: %w", fw.path, err)
	}
	return nil
}
