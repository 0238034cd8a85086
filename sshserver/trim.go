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
)

// crowdTrim gives the operating system back the memory a crowd of new
// sessions used on its way in (key exchanges, first frames, the burst of
// arrivals every screen drew) once the crowd has passed: crowdSize
// sessions opened, then none for crowdQuiet. The runtime would return it
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

	mu      sync.Mutex
	arrived int         // guarded by mu: sessions opened since the last trim
	timer   *time.Timer // guarded by mu: armed while a crowd is in
	stopped bool        // guarded by mu
	running sync.WaitGroup
}

func newCrowdTrim() *crowdTrim {
	return &crowdTrim{free: debug.FreeOSMemory, size: crowdSize, quiet: crowdQuiet}
}

// arrive counts a session that opened.
func (t *crowdTrim) arrive() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.arrived++
	switch {
	case t.arrived < t.size:
	case t.timer == nil:
		t.timer = time.AfterFunc(t.quiet, t.fire)
	default:
		t.timer.Reset(t.quiet)
	}
}

// fire trims, unless the trim was stopped meanwhile.
func (t *crowdTrim) fire() {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return
	}
	t.arrived = 0
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
