package ui

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
)

// readAll reads r as Bubble Tea does, 256 bytes at a time, and returns
// the reads.
func readAll(t *testing.T, r io.Reader) [][]byte {
	t.Helper()
	var reads [][]byte
	buf := make([]byte, 256)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			reads = append(reads, bytes.Clone(buf[:n]))
		}
		if errors.Is(err, io.EOF) {
			return reads
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestInputReaderCutsAPaste(t *testing.T) {
	tests := []struct {
		name  string
		size  int // of the paste
		limit int
		src   func(io.Reader) io.Reader
	}{
		{"10 MiB", 10 << 20, 16 << 10, func(r io.Reader) io.Reader { return r }},
		{"a byte a read", 64 << 10, 1 << 10, iotest.OneByteReader},
	}
	for _, tt := range tests {
		body := strings.Repeat("0123456789abcdef", tt.size/16)
		in := "x" + pasteStart + body + pasteEnd + "hi" + pasteStart + "small" + pasteEnd
		ir := NewInputReader(tt.src(strings.NewReader(in)), tt.limit)
		got := string(bytes.Join(readAll(t, ir), nil))
		want := "x" + pasteStart + body[:tt.limit] + pasteEnd + "hi" + pasteStart + "small" + pasteEnd
		if got != want {
			t.Errorf("%s: passed on %d bytes, want %d: the first %d of the paste and all else", tt.name, len(got), len(want), tt.limit)
		}
		if cut := ir.takeCut(); cut != int64(len(body)-tt.limit) {
			t.Errorf("%s: %d bytes counted as cut, want %d", tt.name, cut, len(body)-tt.limit)
		}
	}
}

func TestInputReaderNeverHoldsALongRun(t *testing.T) {
	in := strings.Repeat("a", 100<<10) + " " + strings.Repeat("é", 50<<10) + "\r"
	ir := NewInputReader(strings.NewReader(in), 1024)
	reads := readAll(t, ir)
	if got := string(bytes.Join(reads, nil)); got != in {
		t.Fatalf("the input changed on the way: %d bytes, want %d", len(got), len(in))
	}
	for i, r := range reads {
		// A full read is taken as possibly incomplete: Bubble Tea would hold
		// the run at its end and read again.
		if len(r) == 256 && textRun(r[256-maxRun:]) {
			t.Fatalf("read %d is full and ends in a run of text", i)
		}
		if !utf8.Valid(r) {
			t.Fatalf("read %d splits a character: %q", i, r)
		}
	}
}

// keys records what a program was sent, and quits on Enter.
type keys struct {
	pastes []int // runes in each paste
	runes  int   // typed, not pasted
}

func (k *keys) Init() tea.Cmd { return nil }

func (k *keys) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if msg, ok := msg.(tea.KeyMsg); ok {
		switch {
		case msg.Type == tea.KeyEnter:
			return k, tea.Quit
		case msg.Paste:
			k.pastes = append(k.pastes, len(msg.Runes))
		default:
			k.runes += len(msg.Runes)
		}
	}
	return k, nil
}

func (k *keys) View() string { return "" }

// A 10 MB paste and a 1 MB word cost Bubble Tea's reader time in the
// square of their length: without InputReader this does not end for
// minutes.
func TestProgramReadsHugeInputInLinearTime(t *testing.T) {
	const limit = 16 << 10
	in := pasteStart + strings.Repeat("p", 10<<20) + pasteEnd + strings.Repeat("w", 1<<20) + "\r"
	k := &keys{}
	p := tea.NewProgram(k, tea.WithInput(NewInputReader(strings.NewReader(in), limit)),
		tea.WithOutput(io.Discard), tea.WithoutRenderer(), tea.WithoutSignalHandler())
	if _, err := p.Run(); err != nil {
		t.Fatal(err)
	}
	if len(k.pastes) != 1 || k.pastes[0] != limit {
		t.Errorf("pastes of %v runes, want one of %d", k.pastes, limit)
	}
	if k.runes != 1<<20 {
		t.Errorf("%d runes typed, want %d", k.runes, 1<<20)
	}
}

func TestCutPasteIsTold(t *testing.T) {
	ir := NewInputReader(strings.NewReader(pasteStart+strings.Repeat("a", 100)+pasteEnd), 10)
	readAll(t, ir)
	m, p := newModel(80, 24, func(c *Config) { c.Input = ir })
	paste(m, strings.Repeat("a", 10))
	if view := shows(m); !strings.Contains(view, "paste cut: the 90 bytes after its first 10 were discarded") {
		t.Errorf("no notice of the cut paste:\n%s", view)
	}
	typeText(m, "b")
	paste(m, "c")
	if n := strings.Count(shows(m), "paste cut"); n != 1 {
		t.Errorf("the cut told %d times, want once", n)
	}
	if len(p.sent) != 0 {
		t.Errorf("posted %q, want nothing", p.sent)
	}
}

// cutPastes is what InputReader passes on of in, the whole input at once:
// each paste's first limit bytes; of a paste that does not end, nothing of
// what could still be the start of its end marker. It also returns the
// bytes cut from the pastes that ended.
func cutPastes(in string, limit int) (out string, cut int) {
	for {
		i := strings.Index(in, pasteStart)
		if i < 0 {
			return out + in, cut
		}
		out += in[:i+len(pasteStart)]
		in = in[i+len(pasteStart):]
		j := strings.Index(in, pasteEnd)
		if j < 0 {
			for k := len(pasteEnd) - 1; k > 0; k-- {
				if strings.HasSuffix(in, pasteEnd[:k]) {
					in = in[:len(in)-k]
					break
				}
			}
			return out + in[:min(len(in), limit)], cut
		}
		out += in[:min(j, limit)] + pasteEnd
		cut += max(0, j-limit)
		in = in[j+len(pasteEnd):]
	}
}

func FuzzInputReader(f *testing.F) {
	f.Add("abc"+pasteStart+"0123456789"+pasteEnd+"def", uint8(4), uint8(2))
	f.Add(pasteStart+"\x1b[20\x1b[201"+pasteEnd, uint8(3), uint8(1))
	f.Add(strings.Repeat("é", 300)+pasteStart+"xx\x1b[2", uint8(100), uint8(255))
	f.Fuzz(func(t *testing.T, in string, limit, chunk uint8) {
		src := io.Reader(strings.NewReader(in))
		if chunk%2 == 1 {
			src = iotest.OneByteReader(src)
		}
		ir := NewInputReader(src, int(limit))
		var got []byte
		buf := make([]byte, 1+int(chunk))
		for {
			n, err := ir.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
		}
		want, cut := cutPastes(in, int(limit))
		if string(got) != want {
			t.Fatalf("passed on %q, want %q", got, want)
		}
		if got := ir.takeCut(); got != int64(cut) {
			t.Fatalf("cut %d, want %d", got, cut)
		}
	})
}

// TestInputPace: past its burst, input is given at the pace set, and what
// a paste discards does not count.
func TestInputPace(t *testing.T) {
	const perSecond, burst = 1000, 500
	read := func(input string) (got string, slept time.Duration) {
		in := NewInputReader(strings.NewReader(input), 100)
		in.Pace(perSecond, burst)
		clock := time.Unix(0, 0)
		in.pace.Now = func() time.Time { return clock }
		in.pace.Sleep = func(d time.Duration) { slept += d; clock = clock.Add(d) }
		var b strings.Builder
		buf := make([]byte, 256) // as Bubble Tea reads
		for {
			n, err := in.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				return b.String(), slept
			}
		}
	}
	typed := strings.Repeat("a", 2500)
	got, slept := read(typed)
	if got != typed {
		t.Fatalf("read %d bytes, want the %d typed", len(got), len(typed))
	}
	// 500 at once, then 2,000 at 1,000 a second.
	if want := 2 * time.Second; slept < want-50*time.Millisecond || slept > want+50*time.Millisecond {
		t.Errorf("slept %v for %d bytes at %d a second past %d, want about %v", slept, len(typed), perSecond, burst, want)
	}
	// A paste of 100,000 bytes, of which 100 are kept.
	pasted := pasteStart + strings.Repeat("p", 100_000) + pasteEnd
	if _, slept := read(pasted); slept > 0 {
		t.Errorf("a paste cut to 100 bytes waited %v", slept)
	}
}
