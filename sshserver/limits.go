package sshserver

import (
	"fmt"
	"net"
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

// admission counts connections, in all and per remote IP, and how fast
// each IP opens new ones.
type admission struct {
	maxTotal   int
	maxPerIP   int
	newPerIP   rate.Limit // new connections per second per IP
	burstPerIP int

	mu    sync.Mutex
	total int                // guarded by mu
	perIP map[string]*ipConn // guarded by mu
}

type ipConn struct {
	open    int
	arrival *rate.Limiter
}

func newAdmission(maxTotal, maxPerIP, newPerMinute int) *admission {
	return &admission{
		maxTotal:   maxTotal,
		maxPerIP:   maxPerIP,
		newPerIP:   rate.Limit(float64(newPerMinute) / 60),
		burstPerIP: max(maxPerIP, 1),
		perIP:      make(map[string]*ipConn),
	}
}

// refusal says why a connection is turned away. hard ones are far over a
// limit and get no answer at all: not even the cost of a handshake.
type refusal struct {
	reason  string // for metrics: "server_full", "ip_connections", "ip_rate"
	message string // for the person
	hard    bool
}

// admit counts a new connection from addr, or refuses it. release must be
// called when an admitted connection closes.
func (a *admission) admit(addr net.Addr) (release func(), refused *refusal) {
	ip := hostOf(addr)
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.perIP[ip]
	if c == nil {
		c = &ipConn{arrival: rate.NewLimiter(a.newPerIP, a.burstPerIP)}
		a.perIP[ip] = c
	}
	switch {
	case a.total >= a.maxTotal:
		refused = &refusal{"server_full", fmt.Sprintf("the server is full (%d connections): try again later", a.maxTotal), a.total >= a.maxTotal+a.maxTotal/10}
	case c.open >= a.maxPerIP:
		refused = &refusal{"ip_connections", fmt.Sprintf("too many connections from %s (the limit is %d): close one first", ip, a.maxPerIP), c.open >= 2*a.maxPerIP}
	case !c.arrival.AllowN(now, 1):
		refused = &refusal{"ip_rate", fmt.Sprintf("too many new connections from %s: wait a minute", ip), false}
	}
	// A refused connection still holds resources until it is closed: count it too.
	a.total++
	c.open++
	var once sync.Once
	return func() { once.Do(func() { a.release(ip) }) }, refused
}

func (a *admission) release(ip string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.total--
	c := a.perIP[ip]
	c.open--
	if c.open == 0 && c.arrival.TokensAt(time.Now()) >= float64(a.burstPerIP) {
		delete(a.perIP, ip)
	}
}

func hostOf(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}
