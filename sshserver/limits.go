package sshserver

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Bounds of the refusals told in words and of the per-address state.
const (
	// toldBurst refusals per address are told why through a key exchange
	// (the auth banner), then one per toldEvery; the others are cut before
	// it, with one line of text that only a verbose client shows.
	toldBurst = 3
	toldEvery = 20 * time.Second
	// maxTold bounds the refusals being told why at once, in all.
	maxTold = 64
	// maxIdleIPs bounds the addresses remembered without an open connection
	// (for their rate of new connections); past it, the least needed go.
	maxIdleIPs = 4096
	// ipv6Group is the prefix length one IPv6 client is counted by: a
	// single host usually has a whole /64.
	ipv6Group = 64
)

// admission counts connections, in all and per remote address (an IPv4
// address, an IPv6 /64), and how fast each address opens new ones.
type admission struct {
	maxTotal   int
	maxPerIP   int
	newPerIP   float64 // new connections per second per address
	burstPerIP int
	now        func() time.Time

	mu      sync.Mutex
	total   int                    // guarded by mu
	told    int                    // guarded by mu: refusals being told why
	perIP   map[netip.Addr]*ipConn // guarded by mu
	sweepAt int                    // guarded by mu: sweep when perIP grows past this
	swept   time.Time              // guarded by mu: the last sweep
}

// ipConn is what is kept about one address: small, as there may be many.
type ipConn struct {
	open    int
	arrival bucket // new connections
	told    bucket // refusals told why
}

func newAdmission(maxTotal, maxPerIP, newPerMinute int) *admission {
	return &admission{
		maxTotal:   maxTotal,
		maxPerIP:   maxPerIP,
		newPerIP:   float64(newPerMinute) / 60,
		burstPerIP: max(maxPerIP, 1),
		now:        time.Now,
		perIP:      make(map[netip.Addr]*ipConn),
		sweepAt:    1024,
	}
}

// refusal says why a connection is turned away. hard ones are far over a
// limit, or past what may be told why, and are cut before the key
// exchange.
type refusal struct {
	reason  string // for metrics: "server_full", "ip_connections", "ip_rate"
	message string // for the person
	hard    bool
}

// admit counts a new connection from addr, or refuses it. release must be
// called when the connection closes, admitted or not.
func (a *admission) admit(addr net.Addr) (release func(), refused *refusal) {
	ip, shown := groupOf(addr)
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.perIP) >= a.sweepAt || now.Sub(a.swept) > time.Minute {
		a.sweep(now)
	}
	c := a.perIP[ip]
	if c == nil {
		c = &ipConn{arrival: fullBucket(now, a.burstPerIP), told: fullBucket(now, toldBurst)}
		a.perIP[ip] = c
	}
	switch {
	case a.total >= a.maxTotal:
		refused = &refusal{"server_full", fmt.Sprintf("the server is full (%d connections): try again later", a.maxTotal), a.total >= a.maxTotal+a.maxTotal/10}
	case c.open >= a.maxPerIP:
		refused = &refusal{"ip_connections", fmt.Sprintf("too many connections from %s (the limit is %d): close one first", shown, a.maxPerIP), c.open >= 2*a.maxPerIP}
	case !c.arrival.take(now, a.newPerIP, a.burstPerIP):
		refused = &refusal{"ip_rate", fmt.Sprintf("too many new connections from %s: wait a minute", shown), false}
	}
	told := false
	if refused != nil && !refused.hard {
		// Telling why costs a key exchange: a few per address, a few at once.
		told = a.told < maxTold && c.told.take(now, 1/toldEvery.Seconds(), toldBurst)
		refused.hard = !told
	}
	if refused != nil && refused.hard {
		// Not even a handshake: nothing to release.
		return func() {}, refused
	}
	a.total++
	c.open++
	if told {
		a.told++
	}
	var once sync.Once
	return func() { once.Do(func() { a.release(ip, told) }) }, refused
}

func (a *admission) release(ip netip.Addr, told bool) {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.total--
	if told {
		a.told--
	}
	c := a.perIP[ip]
	c.open--
	if c.open == 0 && a.rested(c, now) {
		delete(a.perIP, ip)
	}
}

// rested reports whether an address's buckets are full: forgetting it
// changes nothing.
func (a *admission) rested(c *ipConn, now time.Time) bool {
	return c.arrival.full(now, a.newPerIP, a.burstPerIP) && c.told.full(now, 1/toldEvery.Seconds(), toldBurst)
}

// sweep forgets the addresses without a connection whose buckets are full
// again and, past maxIdleIPs of the others, as many of those as it takes:
// a forgotten address starts afresh, which only spares it a wait.
func (a *admission) sweep(now time.Time) {
	idle := 0
	for ip, c := range a.perIP {
		switch {
		case c.open > 0:
		case a.rested(c, now):
			delete(a.perIP, ip)
		default:
			idle++
		}
	}
	for ip, c := range a.perIP {
		if idle <= maxIdleIPs {
			break
		}
		if c.open == 0 {
			delete(a.perIP, ip)
			idle--
		}
	}
	a.sweepAt = max(1024, 2*len(a.perIP))
	a.swept = now
}

// addresses is how many addresses admission keeps state for.
func (a *admission) addresses() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.perIP)
}

// bucket is a token bucket in 16 bytes.
type bucket struct {
	tokens float64
	at     int64 // when tokens was counted, in Unix nanoseconds
}

func fullBucket(now time.Time, burst int) bucket {
	return bucket{tokens: float64(burst), at: now.UnixNano()}
}

func (b *bucket) fill(now time.Time, perSecond float64, burst int) {
	t := now.UnixNano()
	if t > b.at {
		b.tokens = min(float64(burst), b.tokens+float64(t-b.at)/1e9*perSecond)
		b.at = t
	}
}

// take takes a token if there is one.
func (b *bucket) take(now time.Time, perSecond float64, burst int) bool {
	b.fill(now, perSecond, burst)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *bucket) full(now time.Time, perSecond float64, burst int) bool {
	b.fill(now, perSecond, burst)
	return b.tokens >= float64(burst)
}

// groupOf is the key an address is counted by, and how to name it to the
// person: the IPv4 address, or the IPv6 /64.
func groupOf(addr net.Addr) (netip.Addr, string) {
	var ip netip.Addr
	if tcp, ok := addr.(*net.TCPAddr); ok {
		ip, _ = netip.AddrFromSlice(tcp.IP)
	} else if ap, err := netip.ParseAddrPort(addr.String()); err == nil {
		ip = ap.Addr()
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p := netip.PrefixFrom(ip, ipv6Group).Masked()
		return p.Addr(), p.String()
	}
	return ip, ip.String()
}
