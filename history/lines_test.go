package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/sshchat/sshchat/hub"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		line string
		want hub.Event // zero: an error wrapping ErrCorrupt
	}{
		{`{"id":1,"type":"close","chatroomId":"lobby","unixTime":5}`, hub.Event{ID: 1, Type: "close", ChatRoomID: "lobby", UnixTime: 5}},
		{` {"id":2,"type":"join"} `, hub.Event{ID: 2, Type: "join"}},
		{`{"id":3,"type":"message","edited":true}`, hub.Event{ID: 3, Type: "message"}}, // a newer writer's field
		{``, hub.Event{}},
		{`null`, hub.Event{}},
		{`[]`, hub.Event{}},
		{`"id"`, hub.Event{}},
		{`{"type":"join"}`, hub.Event{}},
		{`{"id":0,"type":"join"}`, hub.Event{}},
		{`{"id":-4,"type":"join"}`, hub.Event{}},
		{`{"id":1.5,"type":"join"}`, hub.Event{}},
		{`{"id":4}`, hub.Event{}},
		{`{"id":4,"type":""}`, hub.Event{}},
		{`{"id":4,"type":"join"}{"id":5,"type":"join"}`, hub.Event{}},
		{`{"id":4,"type":"jo`, hub.Event{}},
		{`{"id":4,"type":"join","message":"` + strings.Repeat("x", MaxLine) + `"}`, hub.Event{}},
	} {
		got, err := Decode([]byte(tc.line))
		if tc.want == (hub.Event{}) {
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("Decode(%.40q) = %+v, %v; want ErrCorrupt", tc.line, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Decode(%.40q) = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, e := range []hub.Event{event(1), event(5), bigEvent(7), {ID: 9, Type: "close", Reason: "shutdown\n\"\\"}} {
		line := strings.TrimSuffix(encodeLine(f, e), "\n")
		f.Add([]byte(line))
		f.Add([]byte(line[:len(line)/2])) // torn
	}
	for _, s := range []string{"", "\n", "null", "garbage", `{"id":1}`, `{"id":1,"type":"x"}{}`, "{\"id\":1,\"type\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := Decode(line)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", again, err)
		}
		if e2 != e {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", e, e2)
		}
	})
}

// TestBackLinesRandom compares the backward reader, which reuses its
// memory, with the forward one on lines of random sizes and bytes.
func TestBackLinesRandom(t *testing.T) {
	for seed := range uint64(10) {
		r := rand.New(rand.NewPCG(seed, 3))
		var b bytes.Buffer
		for b.Len() < 2<<20 {
			n := r.IntN(300)
			if r.IntN(20) == 0 {
				n = r.IntN(3 * chunkSize)
			}
			for range n {
				b.WriteByte(byte('!' + r.IntN(90)))
			}
			b.WriteByte('\n')
		}
		var fwd, back [][]byte
		if _, err := forwardLines(bytes.NewReader(b.Bytes()), func(l line) bool {
			fwd = append(fwd, slices.Clone(l.b))
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if err := backLines(bytes.NewReader(b.Bytes()), int64(b.Len()), func(l line) bool {
			back = append(back, slices.Clone(l.b))
			return true
		}); err != nil {
			t.Fatal(err)
		}
		slices.Reverse(back)
		if !slices.EqualFunc(fwd, back, bytes.Equal) {
			t.Fatalf("seed %d: the backward reader read %d lines, not the %d of the forward one, or other bytes", seed, len(back), len(fwd))
		}
	}
}
