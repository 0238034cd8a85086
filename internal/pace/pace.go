// Package pace holds the goroutine that reads a client back to a rate:
// while it sleeps, nothing more of that client is read, so only the
// client that sends too fast waits (SSH and then TCP flow control hold
// its writes) and nothing it sent is lost. It is a limiter of
// golang.org/x/time/rate with a clock the tests can set.
package pace

import (
	"time"

	"golang.org/x/time/rate"
)

// Pace lets things go at a rate, past bursts.
type Pace struct {
	lim *rate.Limiter

	// Now and Sleep are time.Now and time.Sleep; tests set their own.
	Now   func() time.Time
	Sleep func(time.Duration)
}

// New returns a pace of perSecond a second, past bursts of burst.
func New(perSecond float64, burst int) *Pace {
	return &Pace{lim: rate.NewLimiter(rate.Limit(perSecond), burst), Now: time.Now, Sleep: time.Sleep}
}

// Wait returns when one more may go.
func (p *Pace) Wait() { p.WaitN(1) }

// WaitN returns when n more may go. More than a burst counts as a burst:
// a wait is at most a burst's length at the pace.
func (p *Pace) WaitN(n int) {
	if d := p.reserve(n); d > 0 {
		p.Sleep(d)
	}
}

// Reserve counts one more and returns how long it should wait, for a
// caller that holds something else back meanwhile.
func (p *Pace) Reserve() time.Duration { return p.reserve(1) }

func (p *Pace) reserve(n int) time.Duration {
	now := p.Now()
	return p.lim.ReserveN(now, min(n, p.lim.Burst())).DelayFrom(now)
}
