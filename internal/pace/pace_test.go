package pace

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestPace: past its burst, a pace lets one more go every 1/rate.
func TestPace(t *testing.T) {
	p := New(10, 5)
	clock := time.Unix(0, 0)
	var slept time.Duration
	p.Now = func() time.Time { return clock }
	p.Sleep = func(d time.Duration) { slept += d; clock = clock.Add(d) }
	for range 5 + 20 {
		p.Wait()
	}
	if want := 2 * time.Second; slept < want-time.Millisecond || slept > want+time.Millisecond {
		t.Errorf("25 at 10 a second past 5 waited %v, want %v", slept, want)
	}
}
