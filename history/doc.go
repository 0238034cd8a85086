// Package history is the append-only event log of every room: every
// hub.Event, in ID order, one JSON object per line in DATA/events.log, each
// with its room (chatroomId).
//
// It owns three things:
//   - writing: Open gives a Log whose Listener channel takes the events, from
//     the bus (package bus), which numbers the events of every room, or
//     from a single hub it is attached to;
//     an intake goroutine takes each event at once and queues it, a writer
//     goroutine appends what is queued in single writes and fsyncs them as
//     Options.Fsync says. A failed write (a full disk) is retried with
//     backoff, never skipped: meanwhile the queue keeps the hub's events, up
//     to Options.MaxPending, Healthy reports the failure so that the server
//     refuses new messages, and everything is written once the disk takes it
//     again. Close(ctx) gives up when ctx ends and says what was lost;
//   - warm start: Open reads the file from its end, cuts a torn last line left
//     by a crash, and returns the recent events of each room and the last ID
//     so the rooms continue where they stopped; it reads at most
//     Options.RecentScan bytes back (64 MiB by default) for the rooms;
//   - reading for the admin: Scan, Tail and Follow stream the stored lines
//     through a Filter.
//
// A line is committed when its '\n' is on disk: bytes after the last newline
// are a write that never finished. Lines longer than MaxLine are treated as
// corrupt by every reader.
//
// The package knows the hub's Event type and nothing of SSH or terminals.
package history
