package sshserver

import (
	"time"

	"golang.org/x/time/rate"
)

// pace holds a connection's reader back to a rate: while it sleeps, the
// connection is not read, and only the client that sends too fast waits
// (SSH and then TCP flow control). A wait is at most 1/rate.
type pace struct {
	lim   *rate.Limiter
	now   func() time.Time    // time.Now; the tests' own
	sleep func(time.Duration) // time.Sleep; the tests' own
}

func newPace(perSecond float64, burst int) *pace {
	return &pace{lim: rate.NewLimiter(rate.Limit(perSecond), burst), now: time.Now, sleep: time.Sleep}
}

// wait returns when one more may go.
func (p *pace) wait() {
	if d := p.reserve(); d > 0 {
		p.sleep(d)
	}
}

// reserve counts one more and returns how long it should wait.
func (p *pace) reserve() time.Duration {
	now := p.now()
	return p.lim.ReserveN(now, 1).DelayFrom(now)
}
