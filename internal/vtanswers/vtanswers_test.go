package vtanswers

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
)

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("gone") }

// TestPass: answers reach the writer; after it fails they are still read,
// so the emulator never waits; Pass ends when the emulator's input closes.
func TestPass(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    io.Writer
	}{{"writer", &bytes.Buffer{}}, {"gone", failing{}}} {
		term := vt.NewEmulator(80, 24)
		done := make(chan struct{})
		go func() { defer close(done); Pass(tc.w, term) }()
		for range 3 {
			_, _ = term.Write([]byte("\x1b[6n")) // asks where the cursor is: an answer each
		}
		_ = term.InputPipe().(io.Closer).Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Pass did not end", tc.name)
		}
		if b, ok := tc.w.(*bytes.Buffer); ok && bytes.Count(b.Bytes(), []byte("R")) != 3 {
			t.Errorf("%s: passed %q, want three answers", tc.name, b.String())
		}
	}
}
