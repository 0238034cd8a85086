package sshserver

import (
	"bytes"
	"errors"
	"io"
	"sync"
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
