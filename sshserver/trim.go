package sshserver

import (
	"runtime/debug"
	"sync"
	"time"
)

// Defaults of crowdTrim.
const (
	// crowdSize is how many sessions must have opened since the last trim
	// for the next one: a few arrivals leave little behind.
	crowdSize = 64
	// crowdQuiet is how long no session may open before the trim.
	crowdQuiet = 2 * time.Second
	// crowdGap is the least time between two trims: a collection of the
	// whole heap is not free, and clients that come and go in crowds of
	// 64 must not make the server collect every two seconds.
	crowdGap = time.Minute
)

// crowdTrim gives the operating system back the memory a crowd of new
// sessions used on its way in (key exchanges, first frames, the burst of
// arrivals every screen drew) once the crowd has passed: crowdSize
// sessions opened, then none for crowdQuiet, and at most once a crowdGap. The runtime would return it
// by itself, but over minutes, and the goroutines' stacks grown by the
// handshakes only shrink at a collection. One collection of a few hundred
// megabytes, after the storm, against keeping them.
//
// No goroutine waits for it: a timer, reset by every arrival, fires once
// the arrivals pause.
type crowdTrim struct {
	free  func() // debug.FreeOSMemory
	size  int
	quiet time.Duration
	gap   time.Duration

	mu      sync.Mutex
	arrived int         // guarded by mu: sessions opened since the last trim
	last    time.Time   // guarded by mu: when the last trim was
	timer   *time.Timer // guarded by mu: armed while a crowd is in
	stopped bool        // guarded by mu
	running sync.WaitGroup
}

func newCrowdTrim() *crowdTrim {
	return &crowdTrim{free: debug.FreeOSMemory, size: crowdSize, quiet: crowdQuiet, gap: crowdGap}
}

// arrive counts a session that opened.
func (t *crowdTrim) arrive() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.arrived++
	if t.arrived < t.size {
		return
	}
	wait := t.wait(time.Now())
	if t.timer == nil {
		t.timer = time.AfterFunc(wait, t.fire)
	} else {
		t.timer.Reset(wait)
	}
}

// wait is how long after now the next trim may be: the quiet, or longer
// while the gap since the last trim lasts. The caller holds mu.
func (t *crowdTrim) wait(now time.Time) time.Duration {
	if t.last.IsZero() {
		return t.quiet
	}
	return max(t.quiet, t.last.Add(t.gap).Sub(now))
}

// fire trims, unless the trim was stopped meanwhile.
func (t *crowdTrim) fire() {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return
	}
	t.arrived = 0
	t.last = time.Now()
	t.running.Add(1)
	t.mu.Unlock()
	defer t.running.Done()
	t.free()
}

// stop ends the trims, and waits for one in progress.
func (t *crowdTrim) stop() {
	t.mu.Lock()
	t.stopped = true
	if t.timer != nil {
		t.timer.Stop()
	}
	t.mu.Unlock()
	t.running.Wait()
}
