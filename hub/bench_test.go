package hub_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/sshchat/sshchat/hub"
)

// round is how many messages are sent before waiting for every subscriber
// to have received them; it stays below the subscriber buffer, so nobody
// is evicted and both broadcasters do the same work.
const round = 128

// broadcaster is what the benchmark drives: the hub, or the baseline.
type broadcaster interface {
	subscribe(id string) <-chan hub.Event
	send(text string)
	close()
}

// BenchmarkFanout measures deliveries per second (one event to one
// subscriber) at several room sizes, for the hub and for the usual
// mutex-and-map broadcaster as a baseline.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("hub/subs=%d", n), func(b *testing.B) {
			benchFanout(b, n, newHubBroadcaster())
		})
		b.Run(fmt.Sprintf("mutex/subs=%d", n), func(b *testing.B) {
			benchFanout(b, n, newMutexBroadcaster())
		})
	}
}

func benchFanout(b *testing.B, n int, bc broadcaster) {
	var wg sync.WaitGroup       // one Done per subscriber per round
	var synced sync.WaitGroup   // one Done per subscriber per "sync" message
	var drainers sync.WaitGroup // the drainers' lives
	for i := range n {
		ch := bc.subscribe(fmt.Sprint("s", i))
		drainers.Go(func() {
			got := 0
			for ev := range ch {
				switch {
				case ev.Type != hub.EventTypeMessage:
				case ev.Message == "sync":
					synced.Done()
				default:
					if got++; got%round == 0 {
						wg.Done()
					}
				}
			}
		})
		// Every subscriber sees the joins of those after it: let the
		// drainers catch up now and then, so none falls behind in setup.
		if (i+1)%round == 0 || i == n-1 {
			synced.Add(i + 1)
			bc.send("sync")
			synced.Wait()
		}
	}
	// The channels of the run before (tens of MB at 10,000 subscribers)
	// are garbage now: collect them outside the timing.
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	sent := 0
	for sent < b.N {
		// Whole rounds keep the drainers' counting simple.
		wg.Add(n)
		for range round {
			bc.send("hello")
		}
		wg.Wait()
		sent += round
	}
	b.StopTimer()
	b.ReportMetric(float64(sent)*float64(n)/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(0, "ns/op") // per message is misleading across room sizes
	bc.close()
	drainers.Wait()
}

type hubBroadcaster struct{ h *hub.Hub }

func newHubBroadcaster() *hubBroadcaster {
	return &hubBroadcaster{h: hub.New("bench", 1024, 0, hub.WithSubscriberBuffer(2*round))}
}

func (hb *hubBroadcaster) subscribe(id string) <-chan hub.Event {
	ch, err := hb.h.Add(id, id)
	if err != nil {
		panic(err)
	}
	return ch
}

func (hb *hubBroadcaster) send(text string) { hb.h.Message("sender", text) }
func (hb *hubBroadcaster) close()           { _ = hb.h.Close() }

// mutexBroadcaster is the common alternative to the hub: a map of
// subscriber channels under a mutex, sent to by whoever publishes.
type mutexBroadcaster struct {
	mu     sync.Mutex
	nextID int
	subs   map[string]chan hub.Event
}

func newMutexBroadcaster() *mutexBroadcaster {
	return &mutexBroadcaster{subs: make(map[string]chan hub.Event)}
}

func (mb *mutexBroadcaster) subscribe(id string) <-chan hub.Event {
	ch := make(chan hub.Event, 2*round)
	mb.mu.Lock()
	mb.subs[id] = ch
	mb.mu.Unlock()
	return ch
}

func (mb *mutexBroadcaster) send(text string) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	mb.nextID++
	ev := hub.Event{ID: mb.nextID, ChatRoomID: "bench", Type: hub.EventTypeMessage, UserID: "sender", Message: text}
	for _, ch := range mb.subs {
		ch <- ev
	}
}

func (mb *mutexBroadcaster) close() {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	for _, ch := range mb.subs {
		close(ch)
	}
}

// BenchmarkJoinStorm measures what a storm of arrivals costs: n sessions
// subscribing 128 at a time, each with a reader that takes its events as
// they come (as a session's pump does), until every reader has seen a
// message sent after the last arrival. ns/join is the cost of one arrival.
func BenchmarkJoinStorm(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			const parallel = 128
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				h := hub.New("bench", 1024, 0)
				var readers, seen sync.WaitGroup
				seen.Add(n)
				runtime.GC()
				b.StartTimer()

				var joiners sync.WaitGroup
				for j := range parallel {
					joiners.Go(func() {
						for i := j; i < n; i += parallel {
							id := fmt.Sprint("u", i)
							ch, err := h.Add(id, id)
							if err != nil {
								panic(err)
							}
							readers.Go(func() {
								done := false
								for ev := range ch {
									if !done && ev.Type == hub.EventTypeMessage {
										done = true
										seen.Done()
									}
								}
							})
						}
					})
				}
				joiners.Wait()
				h.Message("u0", "all here")
				seen.Wait()

				b.StopTimer()
				if st := h.Stats(); st.Evicted != 0 {
					b.Fatalf("%d evicted in the storm", st.Evicted)
				}
				_ = h.Close()
				readers.Wait()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/join")
		})
	}
}
