package history

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
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
	// ErrInsecure is returned by Open for a log that group or others may
	// read or write: it holds direct messages. chmod 600 fixes it.
	ErrInsecure = errors.New("history: log accessible by others")
)

// DefaultInterval is the batch fsync interval when Options.Interval is zero.
const DefaultInterval = 100 * time.Millisecond

// listenerBuffer is the capacity of the Listener channel: enough to absorb
// a burst while the writer is in a write or fsync.
const listenerBuffer = 1024

// Options configure Open. The zero value is ready to use.
type Options struct {
	// Fsync is the durability mode; the zero value is FsyncBatch.
	Fsync Fsync
	// Keep is how many of the most recent events Open loads for Recent: the
	// hub's history size. 0 loads none but still finds LastID.
	Keep int
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
	lastID   int
	recovery Recovery
	stats    stats

	// Retry delays of the writer; tests shorten them.
	retryMin, retryMax time.Duration

	mu      sync.Mutex
	f       file           // guarded by mu until the writer starts, then owned by it until done
	ch      chan hub.Event // guarded by mu; nil until Listener is called
	closed  bool           // guarded by mu
	closing chan struct{}  // closed by Close: the writer stops retrying forever
	done    chan struct{}  // closed when the writer goroutine has ended
	werr    error          // set by the writer before done is closed
}

// Open opens the log at path, creating it (mode 0600, parent directory 0700)
// if it does not exist; it refuses a log group or others may access
// (ErrInsecure). An existing log is recovered first: a torn last line
// is cut off, then the file is read backwards from its end until
// opts.Keep events and the last ID are known, so opening a large log costs
// only what it returns.
func Open(path string, opts Options) (*Log, error) {
	if opts.Keep < 0 || opts.Interval < 0 || !opts.Fsync.valid() {
		return nil, fmt.Errorf("open log %s: %w: keep %d, interval %v, fsync %v",
			path, ErrOptions, opts.Keep, opts.Interval, opts.Fsync)
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
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
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
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

// LastID returns the ID of the last valid event found by Open, 0 for a new
// or empty log: the hub's next ID is LastID()+1.
func (l *Log) LastID() int { return l.lastID }

// Recovery reports what Open repaired or skipped.
func (l *Log) Recovery() Recovery { return l.recovery }

// Listener returns the channel to attach to the hub, which sends every event
// on it and closes it after the final one. The first call starts the writer
// goroutine; later calls return the same channel. After Close it returns nil.
func (l *Log) Listener() chan<- hub.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	if l.ch == nil {
		l.ch = make(chan hub.Event, listenerBuffer)
		w := l.newWriter()
		go func() {
			defer close(l.done)
			l.werr = w.run(l.ch)
		}()
	}
	return l.ch
}

// Close waits until the writer has written and fsynced every event of the
// listener channel, then closes the file. The hub must have closed the
// channel (hub.Close does) or Close waits for it. Writes that still fail at
// shutdown are retried a few times, then Close returns the error rather than
// hang. A second call returns ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	started := l.ch != nil
	l.mu.Unlock()

	close(l.closing)
	var err error
	if started {
		<-l.done
		err = l.werr
	} else if serr := l.f.Sync(); serr != nil {
		err = fmt.Errorf("sync log %s: %w", l.path, serr)
	}
	if cerr := l.f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close log %s: %w", l.path, cerr))
	}
	return err
}
