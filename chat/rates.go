package chat

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rates is a token bucket per user, shared by all of the user's sessions
// and commands.
type rates struct {
	limit rate.Limit
	burst int

	mu     sync.Mutex
	byUser map[string]*rate.Limiter // guarded by mu
	sweep  int                      // guarded by mu: sweep when byUser grows past this
}

func newRates(perSecond float64, burst int) *rates {
	return &rates{limit: rate.Limit(perSecond), burst: burst, byUser: make(map[string]*rate.Limiter), sweep: 1024}
}

// allow takes a token for one message of userID, if there is one.
func (r *rates) allow(userID string) bool {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.byUser[userID]
	if l == nil {
		if len(r.byUser) >= r.sweep {
			r.forgetRested(now)
		}
		l = rate.NewLimiter(r.limit, r.burst)
		r.byUser[userID] = l
	}
	return l.AllowN(now, 1)
}

// forgetRested drops the buckets that are full again: a new one would be
// the same. It keeps the map about as large as the set of recent senders.
func (r *rates) forgetRested(now time.Time) {
	for id, l := range r.byUser {
		if l.TokensAt(now) >= float64(r.burst) {
			delete(r.byUser, id)
		}
	}
	r.sweep = max(1024, 2*len(r.byUser))
}
