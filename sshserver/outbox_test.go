package sshserver

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

// gate is a writer that blocks until opened, like a client that stopped reading.
type gate struct {
	open chan struct{}
	mu   sync.Mutex
	got  bytes.Buffer
}

func (g *gate) Write(p []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.got.Write(p)
}

func TestOutboxNeverBlocksAndFailsWhenFull(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	slow := make(chan struct{})
	o := newOutbox(g, 100, newBufferPool(), func() { close(slow) })
	for range 10 {
		if _, err := o.Write(bytes.Repeat([]byte("x"), 10)); err != nil {
			t.Fatalf("write within the limit: %v", err)
		}
	}
	// The writer goroutine holds (at most) the first chunk; what is queued
	// now exceeds the limit.
	var err error
	for range 20 {
		if _, err = o.Write(bytes.Repeat([]byte("y"), 10)); err != nil {
			break
		}
	}
	if !errors.Is(err, errTooSlow) {
		t.Fatalf("write past the limit: %v, want errTooSlow", err)
	}
	<-slow
	close(g.open)
	o.Close()
	o.Wait()
}

func TestOutboxDeliversInOrderThenCloses(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	close(g.open)
	o := newOutbox(g, 1<<20, newBufferPool(), func() { t.Error("not too slow") })
	var want bytes.Buffer
	for i := range 1000 {
		p := []byte{byte('a' + i%26)}
		want.Write(p)
		if _, err := o.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	o.Close()
	o.Wait()
	if !bytes.Equal(g.got.Bytes(), want.Bytes()) {
		t.Errorf("delivered %d bytes out of order or incomplete", g.got.Len())
	}
	if _, err := o.Write([]byte("late")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("write after close: %v", err)
	}
}

// TestIdleOutboxHoldsNoGoroutine checks that an outbox sends from a
// goroutine only while it has something to send: a thousand idle
// sessions hold none.
func TestIdleOutboxHoldsNoGoroutine(t *testing.T) {
	before := goleak.IgnoreCurrent()
	g := &gate{open: make(chan struct{})}
	close(g.open)
	o := newOutbox(g, 1<<20, newBufferPool(), func() { t.Error("not too slow") })
	for range 3 {
		if _, err := o.Write([]byte("frame")); err != nil {
			t.Fatal(err)
		}
		o.Wait()
		if err := goleak.Find(before); err != nil {
			t.Fatalf("an idle outbox keeps a goroutine: %v", err)
		}
	}
	o.Close()
	if got := g.got.String(); got != "frameframeframe" {
		t.Errorf("sent %q", got)
	}
}

// countWriter counts the writes that reached it.
type countWriter struct{ n atomic.Int32 }

func (c *countWriter) Write(p []byte) (int, error) { c.n.Add(1); return len(p), nil }

// TestHurriedWriteGoesOutFirst checks that a Write after Hurry lets its
// send run before the writer goes on, and that Hurry is used up by that
// Write. On one P a send goroutine runs only when the writer yields, so
// without the yield no write would have happened yet. The runtime takes
// the global queue first on one schedule in 61, so a few hurried writes
// may still wait: most must not.
func TestHurriedWriteGoesOutFirst(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const tries = 20
	bufs := newBufferPool()
	var hurried, plain int
	for range tries {
		w := &countWriter{}
		o := newOutbox(w, 1<<20, bufs, func() { t.Error("not too slow") })
		o.Hurry()
		if _, err := o.Write([]byte("frame")); err != nil {
			t.Fatal(err)
		}
		if w.n.Load() == 1 {
			hurried++
		}
		o.Wait()
		// Hurry is spent: the next frame goes as usual.
		if _, err := o.Write([]byte("frame")); err != nil {
			t.Fatal(err)
		}
		if w.n.Load() == 2 {
			plain++
		}
		o.Close()
		o.Wait()
	}
	if hurried < tries-3 {
		t.Errorf("%d of %d hurried writes had gone out when Write returned", hurried, tries)
	}
	if plain > 3 {
		t.Errorf("%d of %d writes after a hurried one had gone out when Write returned: Hurry was not spent", plain, tries)
	}
}
