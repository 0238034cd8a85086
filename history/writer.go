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

// stillFailingEvery spaces the reminders in the server log while a write
// keeps failing: one line when it starts, one when it ends, and one this
// often in between.
const stillFailingEvery = time.Minute

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

// batch is encoded events on their way from the intake to the writer.
type batch struct {
	buf    bytes.Buffer
	events int
}

// intake takes every event of ch as it comes and hands the encoded events
// to the writer in batches: whatever arrived while the writer was busy goes
// in one write. It holds at most Options.MaxPending bytes; past that it
// stops reading ch and the hub waits for it. It ends when ch is closed and
// everything it took went to the writer, or was dropped after Close gave up.
func (l *Log) intake(ch <-chan hub.Event, out chan<- *batch) {
	defer close(out)
	var scratch bytes.Buffer
	enc := json.NewEncoder(&scratch)
	// Messages are text for people: keep <, > and & readable in the file.
	enc.SetEscapeHTML(false)
	var (
		cur      *batch
		in       = ch
		abandon  = l.abandon
		dropping bool
	)
	for in != nil || cur != nil {
		take, give := in, out
		if cur == nil {
			give = nil
		} else if cur.buf.Len() >= l.opts.MaxPending {
			take = nil // full: the hub waits
		}
		select {
		case e, ok := <-take:
			if !ok {
				in = nil
				continue
			}
			if dropping {
				continue
			}
			scratch.Reset()
			// An Event has only strings and integers: encoding cannot fail.
			_ = enc.Encode(e)
			if n := scratch.Len() - 1; n > MaxLine {
				l.log.Warn("event log: event longer than readers accept", "id", e.ID, "bytes", n, "max", MaxLine)
			}
			if cur == nil {
				cur = l.spare()
			}
			cur.buf.Write(scratch.Bytes())
			cur.events++
			l.pending.Add(1)
			l.pendingBytes.Add(int64(scratch.Len()))
		case give <- cur:
			cur = nil
		case <-abandon:
			abandon, dropping = nil, true
			if cur != nil {
				l.pending.Add(-int64(cur.events))
				l.pendingBytes.Add(-int64(cur.buf.Len()))
				cur = nil
			}
		}
	}
}

// spare returns an empty batch, one the writer is done with if there is.
func (l *Log) spare() *batch {
	select {
	case b := <-l.free:
		return b
	default:
		return &batch{}
	}
}

// recycle gives a written batch back to the intake, unless it is large:
// a batch that grew while the disk was full must not stay in memory.
func (l *Log) recycle(b *batch) {
	if b.buf.Cap() > 1<<20 {
		return
	}
	b.buf.Reset()
	b.events = 0
	select {
	case l.free <- b:
	default:
	}
}

// writer appends batches to the file. It is owned by the goroutine that
// Listener starts, which ends when the intake is done and everything is on
// disk, or when Close gave up waiting.
type writer struct {
	l        *Log
	f        file
	mode     Fsync
	interval time.Duration
	log      *slog.Logger
	stats    *stats
	retryMin time.Duration
	retryMax time.Duration
	abandon  <-chan struct{} // closed by Log.Close when its context ended
	onAppend func(events, bytes int, took time.Duration)

	// owned by run
	dirty      bool
	lastSync   time.Time
	idle       *time.Timer // fires when the dirty data's sync is due, at most Interval after it became dirty (FsyncBatch)
	armed      bool        // idle is running
	lastReport time.Time   // when the current failure was last logged
}

// newWriter must be called with l.mu held.
func (l *Log) newWriter() *writer {
	return &writer{
		l:        l,
		f:        l.f,
		mode:     l.opts.Fsync,
		interval: l.opts.Interval,
		log:      l.log,
		stats:    &l.stats,
		retryMin: l.retryMin,
		retryMax: l.retryMax,
		abandon:  l.abandon,
		onAppend: l.opts.OnAppend,
		lastSync: time.Now(),
	}
}

// run writes the batches until the intake closes the channel, then syncs.
// It returns an error only when Close gave up on it.
func (w *writer) run(batches <-chan *batch) error {
	w.idle = time.NewTimer(time.Hour)
	w.idle.Stop()
	defer w.idle.Stop()
	for {
		select {
		case b, ok := <-batches:
			if !ok {
				return w.sync() // a clean stop loses nothing whatever the mode
			}
			if err := w.write(b); err != nil {
				return err
			}
			if err := w.afterWrite(); err != nil {
				return err
			}
		case <-w.idle.C:
			if err := w.sync(); err != nil {
				return err
			}
		case <-w.abandon:
			return fmt.Errorf("log %s: %w", w.l.path, ErrUnwritten)
		}
	}
}

// write writes b, retrying what remains after a failure or a short write.
func (w *writer) write(b *batch) error {
	start, size := time.Now(), b.buf.Len()
	err := w.retry("write", func() error {
		for b.buf.Len() > 0 {
			n, err := w.f.Write(b.buf.Bytes())
			b.buf.Next(n)
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
	w.stats.events.Add(int64(b.events))
	w.l.pending.Add(-int64(b.events))
	w.l.pendingBytes.Add(-int64(size))
	if w.onAppend != nil {
		w.onAppend(b.events, size, time.Since(start))
	}
	w.l.recycle(b)
	w.dirty = true
	return nil
}

func (w *writer) afterWrite() error {
	switch w.mode {
	case FsyncAlways:
		return w.sync()
	case FsyncBatch:
		// Armed by the first write after a sync only: the timer bounds how
		// long the oldest unsynced event waits, not the newest. A sync that
		// is due already still waits syncDelay, for the delivery of the
		// events just written to be over.
		if !w.armed {
			due := w.interval - time.Since(w.lastSync)
			w.idle.Reset(min(w.interval, max(due, syncDelay)))
			w.armed = true
		}
	}
	return nil
}

// syncDelay is the least time a batch-mode fsync waits after the write
// that made it due. While a goroutine is in a system call as long as an
// fsync, the runtime lets the core it holds go to other goroutines only
// after a while (0.2 to 0.4 ms measured on a server pinned to one core),
// and the hub delivers the events it hands to the log at the same moment:
// an fsync right after the write delayed every screen's copy of a message
// by that much. By syncDelay later the delivery of a message to hundreds
// of screens is over.
const syncDelay = 10 * time.Millisecond

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

// retry runs op until it succeeds, waiting retryMin doubling to retryMax
// between attempts. Skipping would lose events, so it retries until Close
// gives up on the log; meanwhile the intake keeps taking the hub's events
// and Healthy reports the failure, so that no new message is accepted.
func (w *writer) retry(what string, op func() error) error {
	delay := w.retryMin
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			if attempt > 1 {
				w.recovered(what, attempt)
			}
			return nil
		}
		w.stats.errors.Add(1)
		w.failed(what, attempt, err)
		if !w.wait(delay) {
			w.log.Error("event log: "+what+" failed, given up at shutdown", "attempts", attempt, "err", err)
			return fmt.Errorf("%s log %s: gave up after %d attempts: %w", what, w.l.path, attempt, err)
		}
		delay = min(2*delay, w.retryMax)
	}
}

// failed records a failed attempt: the first of a run and a reminder now
// and then go to the server log, the others only at debug level.
func (w *writer) failed(what string, attempt int, err error) {
	now := time.Now()
	if attempt == 1 {
		if w.l.failure.Load() == nil {
			w.l.failure.Store(&failure{err: err, since: now})
		}
		w.lastReport = now
		w.log.Error("event log: "+what+" failed; new messages are refused until it works again",
			"err", err, "pending", w.l.pending.Load())
		return
	}
	if now.Sub(w.lastReport) >= stillFailingEvery {
		w.lastReport = now
		w.log.Error("event log: "+what+" still failing", "attempts", attempt, "err", err, "pending", w.l.pending.Load())
		return
	}
	w.log.Debug("event log: "+what+" failed, retrying", "attempt", attempt, "err", err)
}

// recovered clears the failure once an operation worked again.
func (w *writer) recovered(what string, attempts int) {
	f := w.l.failure.Swap(nil)
	var down time.Duration
	if f != nil {
		down = time.Since(f.since).Round(time.Millisecond)
	}
	w.log.Info("event log: "+what+" works again; messages are accepted",
		"attempts", attempts, "after", down, "pending", w.l.pending.Load())
}

// wait sleeps for d. It reports false, at once, when Close gave up.
func (w *writer) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-w.abandon:
		return false
	}
}
