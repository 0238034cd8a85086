package sshserver

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// clock is a time the test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func tcpAddr(ip string) net.Addr {
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 40000))
}

func TestAdmissionForgetsAddresses(t *testing.T) {
	clk := &clock{t: time.Unix(1e9, 0)}
	a := newAdmission(12000, 16, 60)
	a.now = clk.now
	// Many addresses, each connecting once and leaving at once: their
	// buckets are not full yet when they leave.
	const n = 4000
	for i := range n {
		release, refused := a.admit(tcpAddr(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()))
		if refused != nil {
			t.Fatalf("address %d refused: %s", i, refused.message)
		}
		release()
	}
	if got := a.addresses(); got > 2*maxIdleIPs {
		t.Errorf("%d addresses kept after %d came and went; want at most %d", got, n, 2*maxIdleIPs)
	}
	// A minute on, the next arrival sweeps the rest away.
	clk.t = clk.t.Add(2 * time.Minute)
	release, _ := a.admit(tcpAddr("192.0.2.1"))
	if got := a.addresses(); got != 1 {
		t.Errorf("%d addresses kept a minute after they left; want only the one connected", got)
	}
	clk.t = clk.t.Add(time.Minute)
	release()
	if got := a.addresses(); got != 0 {
		t.Errorf("%d addresses kept with no connection and full buckets; want 0", got)
	}
}

func TestAdmissionIdleAddressesBounded(t *testing.T) {
	clk := &clock{t: time.Unix(1e9, 0)}
	a := newAdmission(1<<20, 16, 60)
	a.now = clk.now
	// Arrivals faster than buckets refill: without a bound, every address
	// would be kept until its bucket filled up again.
	for i := range 100000 {
		release, _ := a.admit(tcpAddr(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()))
		release()
	}
	if got := a.addresses(); got > 2*maxIdleIPs {
		t.Errorf("%d addresses kept; want at most %d", got, 2*maxIdleIPs)
	}
}

func TestAdmissionGroupsIPv6By64(t *testing.T) {
	a := newAdmission(100, 2, 1000)
	var releases []func()
	for _, ip := range []string{"2001:db8::1", "2001:db8::ffff:1"} {
		release, refused := a.admit(tcpAddr(ip))
		if refused != nil {
			t.Fatalf("%s refused: %s", ip, refused.message)
		}
		releases = append(releases, release)
	}
	release, refused := a.admit(tcpAddr("2001:db8::abcd:1234:5678:9abc"))
	if refused == nil || refused.reason != "ip_connections" || refused.message != "too many connections from 2001:db8::/64 (the limit is 2): close one first" {
		t.Errorf("third connection from one /64: %+v; want refused, the /64 named", refused)
	}
	release()
	release, refused = a.admit(tcpAddr("2001:db8:0:1::1"))
	if refused != nil {
		t.Errorf("another /64 refused: %s", refused.message)
	}
	release()
	for _, r := range releases {
		r()
	}
}

func TestAdmissionTellsFewThenCuts(t *testing.T) {
	clk := &clock{t: time.Unix(1e9, 0)}
	a := newAdmission(100, 1, 1000)
	a.now = clk.now
	held, refused := a.admit(tcpAddr("192.0.2.7"))
	if refused != nil {
		t.Fatal(refused.message)
	}
	defer held()
	told := 0
	for range 100 {
		release, refused := a.admit(tcpAddr("192.0.2.7"))
		if refused == nil {
			t.Fatal("a connection over the limit was admitted")
		}
		if !refused.hard {
			told++
		}
		release()
	}
	if told != toldBurst {
		t.Errorf("%d of 100 refusals told through a handshake; want %d, the rest cut before it", told, toldBurst)
	}
	clk.t = clk.t.Add(toldEvery)
	release, refused := a.admit(tcpAddr("192.0.2.7"))
	if refused == nil || refused.hard {
		t.Errorf("after %v: %+v; want a refusal told why again", toldEvery, refused)
	}
	release()
}
