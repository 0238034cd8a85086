package history

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/internal/dirsync"
)

// maxCorruptWarnings bounds the per-line warnings of one Open, so that a
// file of garbage does not flood the server log; a summary follows.
const maxCorruptWarnings = 10

// recover repairs the file at l.path and loads l.recent and l.lastID from
// its end. A missing file is created, and its directory synced so the new
// name survives a power loss.
func (l *Log) recover() error {
	f, err := os.OpenFile(l.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return l.create()
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	end, err := committedEnd(f, st.Size())
	if err != nil {
		return err
	}
	if torn := st.Size() - end; torn > 0 {
		// Appending after the fragment would glue the next event to it and
		// lose both; the fragment was never a committed event anyway.
		if err := f.Truncate(end); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		l.recovery.TornBytes = torn
		l.log.Warn("event log: cut a torn last line left by a crash", "bytes", torn, "offset", end)
	}
	return l.readTail(f, end)
}

func (l *Log) create() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := dirsync.Sync(filepath.Dir(l.path)); err != nil {
		// Not fatal: the file exists; only its name is not yet durable.
		l.log.Warn("event log: cannot sync the directory of a new log", "err", err)
	}
	return nil
}

// readTail reads f[:end] backwards for LastID, Recent (the last Keep valid
// events) and RecentByRoom (the last Keep of each room). Every room's
// history may lie anywhere back, so it reads until RecentScan bytes are
// behind it, or further while Recent or LastID is not complete. A room's
// history starts at its creation: what is older is of a room of the same
// name that was dropped.
func (l *Log) readTail(f *os.File, end int64) error {
	keep := l.opts.Keep
	l.byRoom = map[string][]hub.Event{}
	created := map[string]bool{} // rooms whose create event was read
	full := func(room string) bool { return created[room] || len(l.byRoom[room]) >= keep }
	more := func() bool {
		return l.lastID == 0 || len(l.recent) < keep || keep > 0 && l.scanned < l.opts.RecentScan
	}
	err := backLines(f, end, func(ln line) bool {
		l.scanned = end - ln.off
		// A line of a room that has all it needs is not decoded: on a
		// long read most lines are.
		if room, ok := roomOf(ln.b); ok && l.lastID != 0 && len(l.recent) >= keep && full(string(room)) {
			return more()
		}
		e, err := ln.decode()
		if err != nil {
			l.recovery.Corrupt++
			if l.recovery.Corrupt <= maxCorruptWarnings {
				l.log.Warn("event log: skipped a corrupt line", "offset", ln.off, "err", err)
			}
		} else {
			if l.lastID == 0 {
				l.lastID = e.ID
			}
			if len(l.recent) < keep {
				l.recent = append(l.recent, e)
			}
			if !full(e.ChatRoomID) {
				l.byRoom[e.ChatRoomID] = append(l.byRoom[e.ChatRoomID], e)
				created[e.ChatRoomID] = e.Type == hub.EventTypeCreate
			}
		}
		return more()
	})
	if err != nil {
		return err
	}
	slices.Reverse(l.recent)
	for _, evs := range l.byRoom {
		slices.Reverse(evs)
	}
	if l.recovery.Corrupt > 0 {
		l.log.Warn("event log: corrupt lines skipped while reading the end of the log", "count", l.recovery.Corrupt)
	}
	return nil
}

// roomPrefix is how the writer starts every line after the ID.
var roomPrefix = []byte(`,"chatroomId":"`)

// roomOf returns the chatroomId of a stored line without decoding it, when
// the line begins as the writer writes it, {"id":N,"chatroomId":"ROOM", and
// ROOM has no escape. ok is false otherwise: decode the line to know.
func roomOf(b []byte) (room []byte, ok bool) {
	rest, ok := bytes.CutPrefix(b, []byte(`{"id":`))
	if !ok {
		return nil, false
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 {
		return nil, false
	}
	rest, ok = bytes.CutPrefix(rest[i:], roomPrefix)
	if !ok {
		return nil, false
	}
	j := bytes.IndexByte(rest, '"')
	if j < 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return nil, false
	}
	return rest[:j], true
}
