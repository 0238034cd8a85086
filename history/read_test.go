package history

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/sshchat/sshchat/hub"
)

func TestFilterMatch(t *testing.T) {
	alice := testUsers[0]
	e := hub.Event{ID: 7, ChatRoomID: "lobby", Type: hub.EventTypeMessage, UserID: alice.id, Name: alice.name, UnixTime: 1000}
	closeEvent := hub.Event{ID: 8, Type: hub.EventTypeClose, UnixTime: 1000}
	at := func(sec int64, nsec int64) time.Time { return time.Unix(sec, nsec) }
	for _, tc := range []struct {
		name string
		f    Filter
		e    hub.Event
		want bool
	}{
		{"zero filter", Filter{}, e, true},
		{"type listed", Filter{Types: []string{"join", "message"}}, e, true},
		{"type not listed", Filter{Types: []string{"join"}}, e, false},
		{"name", Filter{User: "alice"}, e, true},
		{"name other case", Filter{User: "ALICE"}, e, true},
		{"other name", Filter{User: "bob"}, e, false},
		{"fingerprint", Filter{User: alice.id}, e, true},
		{"fingerprint other case", Filter{User: strings.ToLower(alice.id)}, e, false},
		{"user on close event", Filter{User: "alice"}, closeEvent, false},
		{"since equal", Filter{Since: at(1000, 0)}, e, true},
		{"since within the second", Filter{Since: at(1000, 1)}, e, false},
		{"since after", Filter{Since: at(1001, 0)}, e, false},
		{"until equal", Filter{Until: at(1000, 0)}, e, false},
		{"until within the second", Filter{Until: at(1000, 1)}, e, true},
		{"window", Filter{Since: at(999, 0), Until: at(1001, 0)}, e, true},
		{"room listed", Filter{Rooms: []string{"go", "lobby"}}, e, true},
		{"room not listed", Filter{Rooms: []string{"go", "@direct"}}, e, false},
		{"room other case", Filter{Rooms: []string{"LOBBY"}}, e, false},
		{"room by key", Filter{Rooms: []string{"L0BBY"}, RoomKey: strings.ToLower}, e, false},
		{"room by key", Filter{Rooms: []string{"LOBBY"}, RoomKey: strings.ToLower}, e, true},
		{"all match", Filter{Types: []string{"message"}, User: "Alice", Since: at(1000, 0), Until: at(2000, 0)}, e, true},
		{"all but type", Filter{Types: []string{"leave"}, User: "Alice", Since: at(1000, 0), Until: at(2000, 0)}, e, false},
	} {
		if got := tc.f.Match(tc.e); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestScan(t *testing.T) {
	var file strings.Builder
	var want []string // stored lines of the matching events, without '\n'
	for id := 1; id <= 20; id++ {
		line := encodeLine(t, event(id))
		file.WriteString(line)
		if e := event(id); e.Type == hub.EventTypeMessage && e.Name == "Bob" {
			want = append(want, strings.TrimSuffix(line, "\n"))
		}
		switch id {
		case 3:
			file.WriteString("not json\n")
		case 10:
			file.WriteString(strings.Repeat("y", MaxLine+10) + "\n")
		}
	}
	file.WriteString(`{"id":21,"type":"mess`) // unfinished write

	var got []string
	var errs []error
	for rec, err := range Scan(strings.NewReader(file.String()), Filter{Types: []string{"message"}, User: "bob"}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, string(rec.Raw))
		if e, _ := Decode(rec.Raw); e != rec.Event {
			t.Errorf("Raw %s does not decode to Event %+v", rec.Raw, rec.Event)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Scan got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(errs) != 2 || !errors.Is(errs[0], ErrCorrupt) || !errors.Is(errs[1], ErrCorrupt) {
		t.Fatalf("errors = %v, want 2 wrapping ErrCorrupt", errs)
	}
	if !strings.Contains(errs[0].Error(), "line 4 ") || !strings.Contains(errs[1].Error(), "line 12 ") {
		t.Errorf("errors do not name lines 4 and 12: %v", errs)
	}

	// Stopping early is allowed.
	for rec, err := range Scan(strings.NewReader(file.String()), Filter{}) {
		if err != nil || rec.Event.ID != 1 {
			t.Errorf("first record = %+v, %v", rec, err)
		}
		break
	}
}

func TestScanReadError(t *testing.T) {
	r := io.MultiReader(strings.NewReader(encodeLine(t, event(1))), iotest.ErrReader(errInjected))
	var got []int
	var last error
	for rec, err := range Scan(r, Filter{}) {
		if err != nil {
			last = err
			continue
		}
		got = append(got, rec.Event.ID)
	}
	if !slices.Equal(got, []int{1}) || !errors.Is(last, errInjected) {
		t.Errorf("got %v then %v, want [1] then the read error", got, last)
	}
}

// bigEvent has a message of a few KiB so that lines straddle the readers'
// chunks.
func bigEvent(id int) hub.Event {
	e := event(id)
	e.Message = strings.Repeat("é", 500+id%1500)
	return e
}

func TestTail(t *testing.T) {
	path := logPath(t)
	var lines []string
	var all []hub.Event
	for id := 1; id <= 2000; id++ {
		lines = append(lines, encodeLine(t, bigEvent(id)))
		all = append(all, bigEvent(id))
		if id%300 == 0 {
			lines = append(lines, "corrupt\n")
		}
	}
	lines = append(lines, `{"id":2001,"ty`)
	writeFile(t, path, lines...)

	joins := func(es []hub.Event) []hub.Event {
		return slices.DeleteFunc(slices.Clone(es), func(e hub.Event) bool { return e.Type != hub.EventTypeJoin })
	}
	for _, tc := range []struct {
		name string
		n    int
		f    Filter
		want []hub.Event
	}{
		{"last 5", 5, Filter{}, all[1995:]},
		{"last 3 joins", 3, Filter{Types: []string{"join"}}, joins(all)[397:]},
		{"more than there are", 5000, Filter{}, all},
		{"no match", 5, Filter{User: "carol"}, nil},
		{"zero", 0, Filter{}, nil},
	} {
		recs, err := Tail(path, tc.n, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := recordIDs(recs); !slices.Equal(got, ids(tc.want)) {
			t.Errorf("%s: IDs %v, want %v", tc.name, got, ids(tc.want))
		}
		for i, r := range recs {
			if r.Event != tc.want[i] || string(r.Raw)+"\n" != encodeLine(t, tc.want[i]) {
				t.Fatalf("%s: record %d = %+v, want %+v", tc.name, i, r, tc.want[i])
			}
		}
	}

	if _, err := Tail(path+".missing", 1, Filter{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Tail of a missing file = %v, want ErrNotExist", err)
	}
}

// TestBackLines checks the backward reader against the forward one on lines
// of every size around the chunk and MaxLine limits.
func TestBackLines(t *testing.T) {
	sizes := []int{0, 1, 100, chunkSize - 1, chunkSize, chunkSize + 1, 3 * chunkSize, MaxLine, MaxLine + 1, 2*MaxLine + 5, 7}
	for _, first := range []int{0, MaxLine + 1} { // the file may start with a long line
		var b bytes.Buffer
		for i, n := range append([]int{first}, sizes...) {
			b.WriteString(strings.Repeat(string(rune('a'+i)), n))
			b.WriteByte('\n')
		}
		var fwd []line
		if _, err := forwardLines(bytes.NewReader(b.Bytes()), func(l line) bool {
			fwd = append(fwd, line{off: l.off, b: slices.Clone(l.b), long: l.long})
			return true
		}); err != nil {
			t.Fatal(err)
		}
		var back []line
		if err := backLines(bytes.NewReader(b.Bytes()), int64(b.Len()), func(l line) bool {
			back = append(back, line{off: l.off, b: slices.Clone(l.b), long: l.long})
			return true
		}); err != nil {
			t.Fatal(err)
		}
		slices.Reverse(back)
		if len(fwd) != len(sizes)+1 || len(back) != len(fwd) {
			t.Fatalf("forward %d lines, backward %d, want %d", len(fwd), len(back), len(sizes)+1)
		}
		for i := range fwd {
			f, bk := fwd[i], back[i]
			if f.off != bk.off || f.long != bk.long || !bytes.Equal(f.b, bk.b) {
				t.Errorf("line %d: forward off %d long %v len %d, backward off %d long %v len %d",
					i, f.off, f.long, len(f.b), bk.off, bk.long, len(bk.b))
			}
			if want := i > 0 && sizes[i-1] > MaxLine || i == 0 && first > MaxLine; f.long != want {
				t.Errorf("line %d: long = %v, want %v", i, f.long, want)
			}
		}
	}
}

// follow runs Follow on path in a goroutine and returns its records and,
// after stop, its result.
func follow(t *testing.T, path string, f Filter) (recs <-chan Record, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan Record)
	done := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		done <- Follow(ctx, path, f, func(r Record) error {
			select {
			case ch <- r:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}, PollInterval(2*time.Millisecond), onStart(func() { close(started) }))
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("Follow: %v", err)
	}
	var stopped bool
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return ch, stop
}

func expect(t *testing.T, recs <-chan Record, want ...int) {
	t.Helper()
	for _, id := range want {
		select {
		case r := <-recs:
			if r.Event.ID != id {
				t.Fatalf("Follow delivered %d, want %d", r.Event.ID, id)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("Follow did not deliver %d", id)
		}
	}
}

func TestFollow(t *testing.T) {
	path := logPath(t)
	line4 := encodeLine(t, event(4))
	writeFile(t, path, encodeLine(t, event(1)), encodeLine(t, event(2)), line4[:10])
	recs, stop := follow(t, path, Filter{Types: []string{"message"}})

	// The unfinished line at the start is delivered once complete; the
	// lines before it are not.
	appendFile(t, path, line4[10:], encodeLine(t, event(5)), encodeLine(t, event(6)))
	expect(t, recs, 4, 6) // 5 is a join

	// Truncation: start again from the top of the shorter file.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, encodeLine(t, event(7)))
	expect(t, recs, 7)

	// Rotation: what reaches the old file first, then the new file.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path+".1", encodeLine(t, event(8)))
	appendFile(t, path, encodeLine(t, event(9)), "garbage\n", encodeLine(t, event(11)))
	expect(t, recs, 8, 9, 11)

	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Follow after cancel = %v, want context.Canceled", err)
	}
}

func TestFollowCallbackError(t *testing.T) {
	path := logPath(t)
	writeFile(t, path)
	errStop := errors.New("stop")
	done := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		done <- Follow(context.Background(), path, Filter{}, func(r Record) error {
			return errStop
		}, PollInterval(time.Millisecond), onStart(func() { close(started) }))
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("Follow: %v", err)
	}
	appendFile(t, path, encodeLine(t, event(1)))
	select {
	case err := <-done:
		if !errors.Is(err, errStop) {
			t.Errorf("Follow = %v, want the callback's error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Follow did not return the callback's error")
	}
}

func TestFollowMissing(t *testing.T) {
	err := Follow(context.Background(), logPath(t), Filter{}, func(Record) error { return nil })
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Follow of a missing file = %v, want ErrNotExist", err)
	}
}

func TestTailOnCorrupt(t *testing.T) {
	path := logPath(t)
	good1, good3 := encodeLine(t, event(1)), encodeLine(t, event(3))
	writeFile(t, path, good1, "corrupt\n", good3, "{\"id\":0}\n", encodeLine(t, event(5)))
	var got []string
	recs, err := Tail(path, 10, Filter{}, OnCorrupt(func(err error) {
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("OnCorrupt got %v, want an ErrCorrupt", err)
		}
		got = append(got, err.Error())
	}))
	if err != nil {
		t.Fatal(err)
	}
	if ids := recordIDs(recs); !slices.Equal(ids, []int{1, 3, 5}) {
		t.Errorf("Tail IDs %v, want [1 3 5]", ids)
	}
	// Reported as read: from the end.
	wantOffsets := []int{len(good1) + len("corrupt\n") + len(good3), len(good1)}
	if len(got) != len(wantOffsets) {
		t.Fatalf("OnCorrupt called %d times (%q), want %d", len(got), got, len(wantOffsets))
	}
	for i, off := range wantOffsets {
		if want := "line at offset " + strconv.Itoa(off) + ": "; !strings.HasPrefix(got[i], want) {
			t.Errorf("OnCorrupt error %d = %q, want it to start with %q", i, got[i], want)
		}
	}
}

// TestFollowBacklog checks that Backlog and what follows it form one
// sequence: the last matching records, then the appended ones, none twice.
func TestFollowBacklog(t *testing.T) {
	path := logPath(t)
	writeFile(t, path, encodeLine(t, event(1)), encodeLine(t, event(2)), encodeLine(t, event(3)), encodeLine(t, event(4)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	recs := make(chan Record, 16)
	corrupt := make(chan error, 16)
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, path, Filter{Types: []string{"message"}}, func(r Record) error {
			recs <- r
			return nil
		}, Backlog(2), OnCorrupt(func(err error) { corrupt <- err }), PollInterval(2*time.Millisecond),
			onStart(func() {
				// Appended once Follow knows where it starts: not part
				// of the backlog, delivered once by the polling.
				appendFile(t, path, "garbage\n", encodeLine(t, event(6)))
			}))
	}()
	expect(t, recs, 3, 4, 6) // 1 and 2 are before the backlog
	select {
	case err := <-corrupt:
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "offset ") {
			t.Errorf("OnCorrupt got %v, want an ErrCorrupt naming the offset", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("OnCorrupt was not called for the appended garbage")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Follow after cancel = %v, want context.Canceled", err)
	}
	select {
	case r := <-recs:
		t.Errorf("Follow delivered %d more", r.Event.ID)
	default:
	}
}
