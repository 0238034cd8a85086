package history

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sshchat/sshchat/hub"
)

// everyField has every field of an event set, as the writer writes them.
var everyField = hub.Event{ID: 12, ChatRoomID: "go", Type: hub.EventTypeBan, UserID: testUsers[0].id,
	SessionID: "s1", Name: "alice", Message: "ünïcode ✓", Reason: "spam", To: testUsers[1].id, ToName: "Bob",
	OldName: "al", Until: 1_800_000_000, Node: "n1-a3f09c", UnixTime: 1_700_000_000}

// TestDecodeFastTakesTheWritersLines: what the writer writes of a plain
// event is decoded without encoding/json, and as it would.
func TestDecodeFastTakesTheWritersLines(t *testing.T) {
	for _, e := range []hub.Event{event(1), event(5), bigEvent(7), everyField, {ID: 3, Type: "close", UnixTime: -1}} {
		line := strings.TrimSuffix(encodeLine(t, e), "\n")
		got, ok := decodeFast([]byte(line))
		if !ok || got != e {
			t.Errorf("decodeFast(%.60s) = %+v, %v; want %+v", line, got, ok, e)
		}
	}
}

// TestDecodeFastLeavesTheRest: anything but the writer's plain form goes to
// encoding/json, which Decode then uses.
func TestDecodeFastLeavesTheRest(t *testing.T) {
	for _, line := range []string{
		``, `{}`, `null`, `{"id":1,"type":"x"} `, ` {"id":1,"type":"x"}`, `{"id": 1,"type":"x"}`,
		`{"id":1,"type":"x","message":"a\nb"}`,           // an escape
		`{"id":1,"type":"x","message":"a\"b"}`,           // an escaped quote
		`{"id":1,"type":"x","message":"a` + "\t" + `b"}`, // a control character: invalid JSON
		`{"id":1,"type":"x","message":"` + "\xff" + `"}`, // invalid UTF-8: json replaces it
		`{"ID":1,"type":"x"}`,                            // json matches keys in any case
		`{"id":1,"type":"x","mood":"fine"}`,              // a newer writer's field
		`{"id":1,"type":"x","id":2}`,                     // twice: json keeps the last
		`{"id":01,"type":"x"}`, `{"id":1.0,"type":"x"}`, `{"id":1e3,"type":"x"}`, `{"id":-,"type":"x"}`,
		`{"id":1234567890123456789,"type":"x"}`, `{"id":"1","type":"x"}`, `{"id":null,"type":"x"}`,
		`{"id":1,"type":null}`, `{"id":1,"type":"x",}`, `{"id":1,"type":"x"}}`, `{"id":1,"type":"x"`,
		`{"id":1,"type":"x"}{"id":2,"type":"y"}`, `{"id":1;"type":"x"}`, `{"id"`, `{"id":1,"type":"x`,
	} {
		if e, ok := decodeFast([]byte(line)); ok {
			t.Errorf("decodeFast(%q) = %+v, ok; want it left to encoding/json", line, e)
		}
	}
	// Decode still reads them as encoding/json does.
	e, err := Decode([]byte(`{"id":7,"type":"message","message":"a\nb","chatroomId":"go"}`))
	if err != nil || e != (hub.Event{ID: 7, Type: "message", Message: "a\nb", ChatRoomID: "go"}) {
		t.Errorf("Decode = %+v, %v", e, err)
	}
	// A line the fast path starts on and gives up: nothing of it stays.
	e, err = Decode([]byte(`{"id":7,"type":"join","name":"a\u0062"}`))
	if err != nil || e != (hub.Event{ID: 7, Type: "join", Name: "ab"}) {
		t.Errorf("Decode = %+v, %v", e, err)
	}
}

// FuzzDecodeFast: what decodeFast accepts, encoding/json reads the same.
func FuzzDecodeFast(f *testing.F) {
	for _, e := range []hub.Event{event(1), event(5), bigEvent(7), everyField} {
		line := strings.TrimSuffix(encodeLine(f, e), "\n")
		f.Add([]byte(line))
		f.Add([]byte(line[:len(line)/2]))
	}
	for _, s := range []string{`{"id":-0,"type":"x"}`, `{"id":1,"type":"x","until":0}`, `{"type":"x","id":3}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		got, ok := decodeFast(line)
		if !ok {
			return
		}
		var want hub.Event
		if err := json.Unmarshal(line, &want); err != nil {
			t.Fatalf("decodeFast took %q, which encoding/json refuses: %v", line, err)
		}
		if got != want {
			t.Fatalf("decodeFast(%q) = %+v, encoding/json %+v", line, got, want)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	line := []byte(strings.TrimSuffix(encodeLine(b, event(1)), "\n"))
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(line); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e hub.Event
			if err := json.Unmarshal(line, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
