package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sshchat/sshchat/hub"
)

// file is what the writer needs of *os.File; tests substitute failures.
type file interface {
	io.Writer
	Sync() error
	Close() error
}

const (
	// maxBatch caps the events taken from the channel for one write, so a
	// busy hub still sees its events reach the file in bounded steps.
	maxBatch = 4096
	// maxBatchBytes caps the buffer of one write: large messages must not
	// make it grow without bound.
	maxBatchBytes = 1 << 20
	// finalAttempts is how often a failing write or fsync is tried once the
	// log is closing, before Close gives up and returns the error.
	finalAttempts = 5
)

// Stats are counters of the writer since Open.
type Stats struct {
	Events int64 // events written
	Bytes  int64 // bytes written
	Syncs  int64 // successful fsyncs
	Errors int64 // failed writes and fsyncs, each retried
}

type stats struct{ events, bytes, syncs, errors atomic.Int64 }

// Stats returns the writer's counters.
func (l *Log) Stats() Stats {
	return Stats{
		Events: l.stats.events.Load(),
		Bytes:  l.stats.bytes.Load(),
		Syncs:  l.stats.syncs.Load(),
		Errors: l.stats.errors.Load(),
	}
}

// writer appends events to the file. It is owned by the goroutine that
// Listener starts, which ends when the channel is closed and everything is
// on disk, or when a write keeps failing after Close was called.
type writer struct {
	f        file
	path     string
	mode     Fsync
	interval time.Duration
	log      *slog.Logger
	stats    *stats
	retryMin time.Duration
	retryMax time.Duration
	closing  <-chan struct{} // closed by Log.Close
	onAppend func(events, bytes int, took time.Duration)

	// owned by run
	buf      bytes.Buffer // encoded events not yet written
	enc      *json.Encoder
	pending  int // events in buf
	dirty    bool
	lastSync time.Time
	idle     *time.Timer // fires Interval after data became dirty (FsyncBatch)
	armed    bool        // idle is running
	ending   bool        // the channel is closed or Close was called: retries are bounded
}

// newWriter must be called with l.mu held.
func (l *Log) newWriter() *writer {
	w := &writer{
		f:        l.f,
		path:     l.path,
		mode:     l.opts.Fsync,
		interval: l.opts.Interval,
		log:      l.log,
		stats:    &l.stats,
		retryMin: l.retryMin,
		retryMax: l.retryMax,
		closing:  l.closing,
		onAppend: l.opts.OnAppend,
		lastSync: time.Now(),
	}
	w.enc = json.NewEncoder(&w.buf)
	// Messages are text for people: keep <, > and & readable in the file.
	w.enc.SetEscapeHTML(false)
	return w
}

// run writes the events of ch until it is closed, then syncs. It returns an
// error only when it gave up on a write at shutdown.
func (w *writer) run(ch <-chan hub.Event) error {
	w.idle = time.NewTimer(time.Hour)
	w.idle.Stop()
	defer w.idle.Stop()
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return w.finish()
			}
			open := w.batch(e, ch)
			w.ending = w.ending || !open
			if err := w.write(); err != nil {
				return err
			}
			if !open {
				return w.finish()
			}
			if err := w.afterWrite(); err != nil {
				return err
			}
		case <-w.idle.C:
			if err := w.sync(); err != nil {
				return err
			}
		}
	}
}

// batch encodes e and whatever else is ready on ch, up to maxBatch events or
// maxBatchBytes, so that one write carries them all. It reports whether ch is
// still open.
func (w *writer) batch(e hub.Event, ch <-chan hub.Event) (open bool) {
	w.encode(e)
	for range maxBatch - 1 {
		if w.buf.Len() >= maxBatchBytes {
			return true
		}
		select {
		case e, ok := <-ch:
			if !ok {
				return false
			}
			w.encode(e)
		default:
			return true
		}
	}
	return true
}

func (w *writer) encode(e hub.Event) {
	start := w.buf.Len()
	// An Event has only strings and integers: encoding cannot fail.
	_ = w.enc.Encode(e)
	if n := w.buf.Len() - start - 1; n > MaxLine {
		w.log.Warn("event log: event longer than readers accept", "id", e.ID, "bytes", n, "max", MaxLine)
	}
	w.pending++
}

// write writes buf, retrying what remains after a failure or a short write.
func (w *writer) write() error {
	start, size := time.Now(), w.buf.Len()
	err := w.retry("write", func() error {
		for w.buf.Len() > 0 {
			n, err := w.f.Write(w.buf.Bytes())
			w.buf.Next(n)
			w.stats.bytes.Add(int64(n))
			if err != nil {
				return err
			}
			if n == 0 {
				return io.ErrShortWrite
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.stats.events.Add(int64(w.pending))
	if w.onAppend != nil {
		w.onAppend(w.pending, size, time.Since(start))
	}
	w.pending = 0
	w.dirty = true
	return nil
}

func (w *writer) afterWrite() error {
	switch w.mode {
	case FsyncAlways:
		return w.sync()
	case FsyncBatch:
		if time.Since(w.lastSync) >= w.interval {
			return w.sync()
		}
		// Armed by the first write after a sync only: the timer bounds how
		// long the oldest unsynced event waits, not the newest.
		if !w.armed {
			w.idle.Reset(w.interval)
			w.armed = true
		}
	}
	return nil
}

func (w *writer) sync() error {
	w.idle.Stop()
	w.armed = false
	if !w.dirty {
		return nil
	}
	// On Linux a failed fsync may already have dropped the dirty pages, so a
	// later success does not prove the earlier bytes reached the disk; the
	// Error logged by retry is how the admin learns of it.
	if err := w.retry("fsync", w.f.Sync); err != nil {
		return err
	}
	w.stats.syncs.Add(1)
	w.dirty = false
	w.lastSync = time.Now()
	return nil
}

// finish syncs whatever was written: a clean stop loses nothing whatever the
// mode.
func (w *writer) finish() error {
	w.ending = true
	return w.sync()
}

// retry runs op until it succeeds, waiting retryMin doubling to retryMax
// between attempts. Skipping would lose events, so while the hub may still
// send it retries forever and the hub waits (backpressure). Once the log is
// ending it gives up after finalAttempts so that shutdown cannot hang.
func (w *writer) retry(what string, op func() error) error {
	delay := w.retryMin
	left := finalAttempts
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			if attempt > 1 {
				w.log.Info("event log: "+what+" succeeded after retrying", "attempts", attempt)
			}
			return nil
		}
		w.stats.errors.Add(1)
		if w.ending = w.ending || w.closed(); w.ending {
			if left--; left == 0 {
				w.log.Error("event log: "+what+" failed, giving up at shutdown", "attempt", attempt, "err", err)
				return fmt.Errorf("%s log %s: gave up after %d attempts: %w", what, w.path, attempt, err)
			}
		}
		w.log.Error("event log: "+what+" failed, retrying", "attempt", attempt, "err", err)
		w.wait(delay)
		delay = min(2*delay, w.retryMax)
	}
}

func (w *writer) closed() bool {
	select {
	case <-w.closing:
		return true
	default:
		return false
	}
}

// wait sleeps for d, or less if Close is called meanwhile so that the
// bounded retries of shutdown start at once.
func (w *writer) wait(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	closing := w.closing
	if w.ending {
		closing = nil
	}
	select {
	case <-t.C:
	case <-closing:
	}
}
