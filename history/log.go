package history

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sshchat/sshchat/hub"
)

// Errors returned by the package; test them with errors.Is.
var (
	// ErrClosed is returned by a second call to Log.Close.
	ErrClosed = errors.New("history: log closed")
	// ErrCorrupt wraps every reason a stored line cannot be read as an event.
	ErrCorrupt = errors.New("history: corrupt line")
	// ErrFsyncMode is returned for an unknown --fsync value.
	ErrFsyncMode = errors.New("history: unknown fsync mode")
	// ErrOptions is returned by Open for options it cannot honour.
	ErrOptions = errors.New("history: invalid options")
	// ErrUnavailable is wrapped by Healthy while events cannot be written
	// as they come: writes are failing, or too much waits to be written.
	ErrUnavailable = errors.New("history: cannot write the log")
	// ErrUnwritten is wrapped by Close when it had to stop before every
	// event accepted was written.
	ErrUnwritten = errors.New("history: events not written")
	// ErrInsecure is returned by Open for a log that group or others may
	// read or write: it holds direct messages. chmod 600 fixes it.
	ErrInsecure = errors.New("history: log accessible by others")
)

// DefaultInterval is the batch fsync interval when Options.Interval is zero.
const DefaultInterval = 100 * time.Millisecond

// listenerBuffer is the capacity of the Listener channel: enough to absorb
// a burst while the intake is busy encoding.
const listenerBuffer = 1024

// DefaultMaxPending is the memory for events waiting to be written when
// Options.MaxPending is zero.
const DefaultMaxPending = 32 << 20

// DefaultRecentScan is how much of the end of the log Open reads for
// RecentByRoom when Options.RecentScan is zero: 64 MiB, some 350,000
// events. Reading it takes under 0.1 s; decoding the events kept takes
// more, about 1 s when 1,000 rooms keep every one of them. A room whose
// events are all older than that starts with no history.
const DefaultRecentScan = 64 << 20

// Options configure Open. The zero value is ready to use.
type Options struct {
	// Fsync is the durability mode; the zero value is FsyncBatch.
	Fsync Fsync
	// Keep is how many of the most recent events Open loads for Recent,
	// and for each room for RecentByRoom: the hub's history size. 0 loads
	// none but still finds LastID.
	Keep int
	// RecentScan bounds the bytes Open reads back from the end of the log
	// to fill RecentByRoom, so that a huge log does not stall the start;
	// 0 means DefaultRecentScan.
	RecentScan int64
	// Interval bounds how long written events may wait for an fsync in
	// FsyncBatch mode; 0 means DefaultInterval.
	Interval time.Duration
	// Logger receives recovery warnings and write errors; nil means
	// slog.Default().
	Logger *slog.Logger
	// OnAppend, if set, is called by the writer after each batch is written
	// with its size and how long the write took (retries included). It must
	// be quick: the writer waits for it.
	OnAppend func(events, bytes int, took time.Duration)
	// MaxPending bounds the bytes of encoded events kept in memory while
	// the file cannot take them (a full disk): the intake holds at most
	// this much, the writer one batch of at most as much. Past it the
	// Listener channel stops being read and the hub waits. Healthy fails
	// from half of it. 0 means DefaultMaxPending.
	MaxPending int
}

// Recovery says what Open repaired or skipped in an existing log.
type Recovery struct {
	// TornBytes is how many bytes Open cut from a last line that a crash
	// left without its '\n'.
	TornBytes int64
	// Corrupt counts the complete lines that did not decode among those Open
	// read from the end of the file.
	Corrupt int
}

// Log is an open event log. Its methods are safe for concurrent use.
type Log struct {
	path     string
	opts     Options
	log      *slog.Logger
	recent   []hub.Event
	byRoom   map[string][]hub.Event // oldest first, as recent
	lastID   int
	recovery Recovery
	scanned  int64 // bytes Open read back from the end: RecentScan and a line at most, unless Recent needed more
	stats    stats

	// Retry delays of the writer; tests shorten them.
	retryMin, retryMax time.Duration

	// What the writer is going through, for Healthy and the metrics.
	failure      atomic.Pointer[failure] // nil while writes succeed
	pending      atomic.Int64            // events accepted and not yet written
	pendingBytes atomic.Int64            // their encoded bytes

	mu      sync.Mutex
	f       file           // guarded by mu until the writer starts, then owned by it until done
	ch      chan hub.Event // guarded by mu; nil until Listener is called
	closed  bool           // guarded by mu
	abandon chan struct{}  // closed by Close when its context ends: stop retrying, drop what is left
	free    chan *batch    // written batches, for the intake to fill again
	done    chan struct{}  // closed when the writer goroutine has ended
	werr    error          // set by the writer before done is closed
}

// failure is a write or fsync that keeps failing.
type failure struct {
	err   error
	since time.Time
}

// Open opens the log at path, creating it (mode 0600, parent directory 0700)
// if it does not exist; it refuses a log group or others may access
// (ErrInsecure). An existing log is recovered first: a torn last line
// is cut off, then the file is read backwards from its end until the last
// opts.Keep events of every room and the last ID are known, or until
// opts.RecentScan bytes are read (DefaultRecentScan), so opening a large
// log costs at most that much.
func Open(path string, opts Options) (*Log, error) {
	if opts.Keep < 0 || opts.Interval < 0 || opts.MaxPending < 0 || opts.RecentScan < 0 || !opts.Fsync.valid() {
		return nil, fmt.Errorf("open log %s: %w: keep %d, interval %v, fsync %v",
			path, ErrOptions, opts.Keep, opts.Interval, opts.Fsync)
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	if opts.MaxPending == 0 {
		opts.MaxPending = DefaultMaxPending
	}
	if opts.RecentScan == 0 {
		opts.RecentScan = DefaultRecentScan
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	l := &Log{
		path:     path,
		opts:     opts,
		log:      logger.With("path", path),
		retryMin: 50 * time.Millisecond,
		retryMax: 2 * time.Second,
		abandon:  make(chan struct{}),
		free:     make(chan *batch, 2),
		done:     make(chan struct{}),
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	// A device (say /dev/full in a test) keeps nothing for others to read:
	// only a regular file's mode matters.
	if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o: run chmod 600 %s", ErrInsecure, path, uint32(info.Mode().Perm()), path)
	}
	if err := l.recover(); err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	l.f = f
	return l, nil
}

// Recent returns the last Options.Keep valid events found by Open, oldest
// first. It does not include events written since.
func (l *Log) Recent() []hub.Event { return slices.Clone(l.recent) }

// RecentByRoom returns, for each room (chatroomId) found by Open, its last
// Options.Keep valid events, oldest first, to seed the room's hub: from its
// create event at most, since older ones are of a room of the same name
// that was dropped. Direct messages count as a room of their own,
// "@direct". Open reads only the
// last Options.RecentScan bytes of the log for it: a room quiet for longer
// than that is missing. It does not include events written since.
func (l *Log) RecentByRoom() map[string][]hub.Event {
	m := make(map[string][]hub.Event, len(l.byRoom))
	for room, evs := range l.byRoom {
		m[room] = slices.Clone(evs)
	}
	return m
}

// LastID returns the ID of the last valid event found by Open, 0 for a new
// or empty log: the hub's next ID is LastID()+1.
func (l *Log) LastID() int { return l.lastID }

// Recovery reports what Open repaired or skipped.
func (l *Log) Recovery() Recovery { return l.recovery }

// Listener returns the channel that takes every event: give it to
// bus.NewLocal, or attach it to a single hub. The sender closes it after
// the final one (bus.Local.Close, hub.Close). The first call starts the intake
// goroutine, which takes every event at once and queues it in memory (up to
// Options.MaxPending), and the writer goroutine, which appends the queue to
// the file: a disk that is slow or full does not hold up the hub. Later
// calls return the same channel. After Close it returns nil.
func (l *Log) Listener() chan<- hub.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	if l.ch == nil {
		l.ch = make(chan hub.Event, listenerBuffer)
		batches := make(chan *batch)
		go l.intake(l.ch, batches)
		w := l.newWriter()
		go func() {
			defer close(l.done)
			err := w.run(batches)
			if cerr := w.f.Close(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("close log %s: %w", l.path, cerr))
			}
			l.werr = err
		}()
	}
	return l.ch
}

// Healthy reports whether the log keeps up with the hub: nil while events
// are written as they come, an error wrapping ErrUnavailable while writes
// or fsyncs fail (a full disk) or too many events wait to be written.
// Events are still accepted then, up to Options.MaxPending, and written
// once the file takes them again; a server uses Healthy to refuse new
// messages meanwhile, so that what waits stays small.
func (l *Log) Healthy() error {
	if f := l.failure.Load(); f != nil {
		return fmt.Errorf("%w since %s: %w", ErrUnavailable, f.since.Format(time.RFC3339), f.err)
	}
	if b := l.pendingBytes.Load(); b > int64(l.opts.MaxPending/2) {
		return fmt.Errorf("%w: %d bytes of events wait to be written", ErrUnavailable, b)
	}
	return nil
}

// Pending returns how many events were accepted and are not written yet.
func (l *Log) Pending() int { return int(l.pending.Load()) }

// WriteErrors returns how many writes and fsyncs failed since Open.
func (l *Log) WriteErrors() int64 { return l.stats.errors.Load() }

// Close waits until the writer has written and fsynced every event of the
// listener channel, then closes the file. The sender must close the channel
// (bus.Local.Close or hub.Close does) or Close waits for it. Failing writes are retried until
// ctx ends; then Close stops waiting and returns an error wrapping
// ErrUnwritten that counts the events that were not written, and whatever
// the hub still sends is dropped, so that the hub can finish closing. A
// second call returns ErrClosed.
func (l *Log) Close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	started := l.ch != nil
	l.mu.Unlock()

	if !started {
		var err error
		if serr := l.f.Sync(); serr != nil {
			err = fmt.Errorf("sync log %s: %w", l.path, serr)
		}
		if cerr := l.f.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close log %s: %w", l.path, cerr))
		}
		return err
	}
	select {
	case <-l.done:
		return l.werr
	case <-ctx.Done():
	}
	select {
	case <-l.done: // it finished as ctx ended
		return l.werr
	default:
	}
	unwritten := l.pending.Load()
	close(l.abandon)
	l.log.Error("event log: stopped before every event was written", "unwritten", unwritten, "err", ctx.Err())
	return fmt.Errorf("close log %s: %w: %d: %w", l.path, ErrUnwritten, unwritten, ctx.Err())
}
