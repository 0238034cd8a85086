package history

import (
	"encoding/json"
	"errors"
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
