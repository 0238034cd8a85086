// Package history is the append-only event log of a room: every hub.Event,
// in order, one JSON object per line in DATA/events.log.
//
// It owns three things:
//   - writing: Open gives a Log whose Listener channel is attached to the hub;
//     one writer goroutine batches events into single writes and fsyncs them
//     as Options.Fsync says. A failed write is retried, never skipped: while it
//     retries the writer stops reading, and the hub slows down with it;
//   - warm start: Open reads the file from its end, cuts a torn last line left
//     by a crash, and returns the recent events and the last ID so the hub can
//     continue where it stopped;
//   - reading for the admin: Scan, Tail and Follow stream the stored lines
//     through a Filter.
//
// A line is committed when its '\n' is on disk: bytes after the last newline
// are a write that never finished. Lines longer than MaxLine are treated as
// corrupt by every reader.
//
// The package knows the hub's Event type and nothing of SSH or terminals.
package history
