package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Phases of a run: a session that ends while the run is on was dropped;
// one that ends during the shutdown measurement or when the tool closes
// it was not.
const (
	phaseRun int32 = iota
	phaseShutdown
	phaseClosing
)

// connectBudget bounds the whole connect phase.
const connectBudget = 5 * time.Minute

// run is the shared state of one load run.
type run struct {
	cfg      config
	id       int       // tells this run's tokens from older ones shown as history
	epoch    time.Time // the run clock counts nanoseconds from here
	messages int       // messages planned
	progress io.Writer

	senders atomic.Int64   // sessions sending: -senders, or fewer if fewer connected
	sendAt  []atomic.Int64 // run clock of each message's send; 0 before
	latency *histogram
	phase   atomic.Int32

	alive     atomic.Int64   // sessions with a first screen and no end yet
	aliveIn   []atomic.Int64 // alive, by room (config.room)
	roomOf    []int          // the room of each sender, set before the first send
	open      atomic.Int64   // sessions whose output stream is still open
	expected  atomic.Int64   // deliveries due: per message, the sessions alive at its send
	delivered atomic.Int64   // first sightings of a message by a session alive at its send
	history   atomic.Int64   // first sightings of messages sent before the session was there
	foreign   atomic.Int64   // tokens of another run or out of range
	firstDown atomic.Int64   // run clock: the first "shutting down" on any screen

	sent       atomic.Int64
	sendErrors atomic.Int64
	maxLag     atomic.Int64 // the latest a message went out after its time

	mu         sync.Mutex
	connectErr []string // the first few connect errors
	failed     int
}

func newRun(cfg config, progress io.Writer) *run {
	m := cfg.messages()
	r := &run{
		cfg:      cfg,
		id:       1 + rand.IntN(9999),
		epoch:    time.Now(),
		messages: m,
		progress: progress,
		sendAt:   make([]atomic.Int64, m),
		latency:  newHistogram(),
		aliveIn:  make([]atomic.Int64, max(cfg.Rooms, 1)),
	}
	r.senders.Store(int64(cfg.Senders))
	return r
}

// clock is the run clock: nanoseconds since the run began, never 0.
func (r *run) clock() int64 { return max(int64(time.Since(r.epoch)), 1) }

// at is the wall duration of a run clock reading.
func at(c int64) time.Duration { return time.Duration(c) }

// messageIndex is the number of message t in the run: sender j sends
// messages j, j+K, j+2K, ... as its sequence 0, 1, 2, ...
func (r *run) messageIndex(t token) (int, bool) {
	if t.run != r.id {
		return 0, false
	}
	k := int(r.senders.Load())
	if k == 0 || t.sender >= k {
		return 0, false
	}
	i := t.sender + k*t.seq
	if t.seq > r.messages || i >= r.messages {
		return 0, false
	}
	return i, true
}

// sawShutdown notes a "shutting down" seen at c, keeping the earliest.
func (r *run) sawShutdown(c int64) {
	for {
		old := r.firstDown.Load()
		if old != 0 && old <= c || r.firstDown.CompareAndSwap(old, c) {
			return
		}
	}
}

// connectAll opens the sessions, at most -connect-parallel at a time. It
// returns the sessions that showed a first screen, in index order, and
// the time each took.
func (r *run) connectAll(ctx context.Context) ([]*session, []time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, connectBudget)
	defer cancel()
	n := r.cfg.N
	all := make([]*session, n)
	took := make([]time.Duration, n)
	jobs := make(chan int, n)
	for i := range n {
		jobs <- i
	}
	close(jobs)

	stop := r.reportProgress(ctx)
	var wg sync.WaitGroup
	for range min(r.cfg.ConnectParallel, n) {
		wg.Go(func() {
			for i := range jobs {
				all[i], took[i] = r.connectOne(ctx, i)
			}
		})
	}
	wg.Wait()
	stop()

	var ok []*session
	var times []time.Duration
	for i, s := range all {
		if s != nil {
			ok = append(ok, s)
			times = append(times, took[i])
		}
	}
	return ok, times
}

// connectOne opens session i; nil when it failed.
func (r *run) connectOne(ctx context.Context, i int) (*session, time.Duration) {
	if ctx.Err() != nil {
		r.connectFailed(i, ctx.Err())
		return nil, 0
	}
	s := newSession(r, i)
	if i == 0 && r.cfg.Verify {
		s.verify = newVerifier(r.cfg.Width, r.cfg.Height)
	}
	start := time.Now()
	if err := s.open(ctx); err != nil {
		r.connectFailed(i, err)
		if s.verify != nil {
			s.verify.close()
		}
		return nil, 0
	}
	return s, time.Since(start)
}

func (r *run) connectFailed(i int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed++
	if len(r.connectErr) < 5 {
		r.connectErr = append(r.connectErr, fmt.Sprintf("session %d: %v", i, err))
	}
}

// reportProgress prints the number of open sessions every few seconds
// until the returned stop is called.
func (r *run) reportProgress(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fmt.Fprintf(r.progress, "sshchat-load: %d of %d sessions up\n", r.alive.Load(), r.cfg.N)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// closeAll cuts every session and waits for their readers.
func closeAll(r *run, sessions []*session) {
	r.phase.Store(phaseClosing)
	for _, s := range sessions {
		_ = s.client.Close()
	}
	for _, s := range sessions {
		s.close()
		if s.verify != nil {
			s.verify.close()
		}
	}
}

// sleepCtx sleeps for d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
