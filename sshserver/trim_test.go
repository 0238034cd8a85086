package sshserver

import (
	"testing"
	"time"
)

// trimCounter is a crowdTrim whose trims are counted on a channel.
func trimCounter(size int, quiet time.Duration) (*crowdTrim, <-chan struct{}) {
	trims := make(chan struct{}, 16)
	t := &crowdTrim{size: size, quiet: quiet, free: func() { trims <- struct{}{} }}
	return t, trims
}

func TestCrowdTrimAfterACrowd(t *testing.T) {
	tr, trims := trimCounter(8, 10*time.Millisecond)
	defer tr.stop()
	for range 8 {
		tr.arrive()
	}
	select {
	case <-trims:
	case <-time.After(10 * time.Second):
		t.Fatal("8 sessions opened, then none: no trim")
	}
	// The count starts again: 7 more are not a crowd.
	for range 7 {
		tr.arrive()
	}
	tr.stop()
	select {
	case <-trims:
		t.Fatal("a trim for 7 sessions")
	default:
	}
}

func TestCrowdTrimWaitsForTheQuiet(t *testing.T) {
	tr, trims := trimCounter(2, time.Hour)
	for range 100 {
		tr.arrive()
	}
	tr.stop()
	select {
	case <-trims:
		t.Fatal("a trim while sessions kept opening")
	default:
	}
	tr.arrive() // after stop: nothing
	if tr.arrived != 100 {
		t.Fatalf("arrived = %d after stop, want 100", tr.arrived)
	}
}

func TestCrowdTrimStopWaits(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	tr := &crowdTrim{size: 1, quiet: time.Millisecond, free: func() { close(started); <-release }}
	tr.arrive()
	<-started
	stopped := make(chan struct{})
	go func() { tr.stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("stop returned while a trim ran")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-stopped
}

// TestCrowdTrimKeepsItsGap checks that a crowd coming within the gap
// after a trim waits for the gap's end, and one after it only for the
// quiet.
func TestCrowdTrimKeepsItsGap(t *testing.T) {
	tr := &crowdTrim{quiet: 2 * time.Second, gap: time.Minute}
	if got := tr.wait(time.Now()); got != 2*time.Second {
		t.Errorf("before any trim: waits %v, want the quiet", got)
	}
	at := time.Now()
	tr.last = at
	if got := tr.wait(at.Add(10 * time.Second)); got != 50*time.Second {
		t.Errorf("10 s after a trim: waits %v, want 50s", got)
	}
	if got := tr.wait(at.Add(59 * time.Second)); got != 2*time.Second {
		t.Errorf("59 s after a trim: waits %v, want the quiet", got)
	}
	if got := tr.wait(at.Add(time.Hour)); got != 2*time.Second {
		t.Errorf("an hour after a trim: waits %v, want the quiet", got)
	}
}
