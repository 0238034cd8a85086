package chat

import (
	"fmt"
	"log/slog"
	"runtime"
	"testing"

	"github.com/sshchat/sshchat/hub"
)

// roomCost is the heap a session holds for each room it is in past its
// first: its subscription in the room's hub (the stream's channel, most
// of it), its place in the room's roster, and the room in its list.
// Each hub's subscriber buffer is buffer events.
func roomCost(tb testing.TB, sessions, rooms, buffer int) float64 {
	tb.Helper()
	open := func(id string) (Room, error) {
		if id == DirectID {
			return hub.New(id, 64, 1024, hub.WithoutPresence()), nil
		}
		return hub.New(id, 64, 1024, hub.WithSubscriberBuffer(buffer)), nil
	}
	core, err := New(nil, slog.New(slog.DiscardHandler), Config{MaxRoomsPerUser: rooms, MaxRoomsPerSession: rooms, OpenRoom: open})
	if err != nil {
		tb.Fatal(err)
	}
	defer core.Close()
	owner, _, err := core.Arrive("SHA256:owner", "owner", newFakeSession("o"))
	if err != nil {
		tb.Fatal(err)
	}
	defer owner.Leave()
	for i := range rooms {
		if _, _, err := owner.Join(fmt.Sprintf("room%02d", i), 0); err != nil {
			tb.Fatal(err)
		}
	}
	seats := make([]*Seat, sessions)
	for i := range seats {
		seats[i], _, err = core.Arrive(fmt.Sprintf("SHA256:u%04d", i), fmt.Sprintf("u%04d", i), newFakeSession("s"))
		if err != nil {
			tb.Fatal(err)
		}
		if _, _, err := seats[i].Join("room00", 0); err != nil {
			tb.Fatal(err)
		}
	}
	before := heap()
	for _, s := range seats {
		for r := 1; r < rooms; r++ {
			if _, _, err := s.Join(fmt.Sprintf("room%02d", r), 0); err != nil {
				tb.Fatal(err)
			}
		}
	}
	after := heap()
	for _, s := range seats {
		s.Leave()
	}
	return float64(after-before) / float64(sessions*(rooms-1))
}

func heap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkSessionInRooms reports what a session holds for each room it
// is in past its first, sessions in 20 rooms each, with the hubs'
// default subscriber buffer and a smaller one.
func BenchmarkSessionInRooms(b *testing.B) {
	for _, buffer := range []int{hub.DefaultSubscriberBuffer, 16} {
		b.Run(fmt.Sprintf("buffer=%d", buffer), func(b *testing.B) {
			var cost float64
			for b.Loop() {
				cost = roomCost(b, 200, 20, buffer)
			}
			b.ReportMetric(cost, "B/room")
		})
	}
}

// TestSessionRoomCostIsBounded: a session in 20 rooms holds a small fixed
// amount for each room past its first.
func TestSessionRoomCostIsBounded(t *testing.T) {
	const bound = 16 << 10
	if cost := roomCost(t, 100, 20, hub.DefaultSubscriberBuffer); cost > bound {
		t.Errorf("a session holds %.0f bytes for each room past its first, over %d", cost, bound)
	}
}
