package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/hub"
)

func TestMessageRateIsPerUser(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config) {
		c.Server.MessageBurst = 3
		c.Server.MessageRate = 0.001 // no token comes back during the test
	})
	key := newKey(t)
	laptop := s.connect("ann", key, 100, 30)
	phone := s.connect("ann", key, 100, 30)
	// Both sessions are in: the second one's arrival, or the member list.
	laptop.waitFor("ann's second session", func(scr string) bool {
		return strings.Contains(scr, "ann +1 session") || listed(scr, "ann x2")
	})
	laptop.say("one")
	phone.say("two")
	laptop.say("three")
	laptop.waitText("ann: three")
	phone.say("four") // the bucket is shared by both sessions
	phone.waitText("slow down")
	phone.waitFor("the refused text back in the input", func(scr string) bool {
		return strings.Contains(scr, "> four")
	})
	if strings.Contains(laptop.screen(), "ann: four") {
		t.Error("a throttled message was delivered")
	}
	// A script of the same key shares the bucket and says why it failed.
	if _, stderr, status := s.runCmd("ann", key, "", "say five"); status != 1 || !strings.Contains(stderr, "slow down") {
		t.Errorf("throttled say: status %d, stderr %q; want 1 and the reason", status, stderr)
	}
}

func TestSessionsPerUser(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config) { c.Server.SessionsPerUser = 2 })
	key := newKey(t)
	s.connect("ann", key, 80, 24).waitText("#lobby")
	s.connect("ann", key, 80, 24).waitText("#lobby")
	_, sess := s.session("ann", key)
	var stderr strings.Builder
	sess.Stderr = &stderr
	if err := sess.RequestPty("xterm", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	err := sess.Run("")
	var exit *ssh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(stderr.String(), "2 sessions open") {
		t.Errorf("third session: %v, stderr %q; want exit 1 and the limit named", err, stderr.String())
	}
}

// dialFrom opens an SSH connection from the local address ip, capturing
// the auth banner.
func dialFrom(addr, ip string, key ssh.Signer) (*ssh.Client, string, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: wait}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	var banner string
	cfg := clientConfig("storm", ssh.PublicKeys(key))
	cfg.BannerCallback = func(msg string) error { banner = msg; return nil }
	_ = raw.SetDeadline(time.Now().Add(wait))
	c, chans, reqs, err := ssh.NewClientConn(raw, addr, cfg)
	if err != nil {
		raw.Close()
		return nil, banner, err
	}
	_ = raw.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), banner, nil
}

func TestConnectionStormFromOneIP(t *testing.T) {
	const limit = 8
	s := startServer(t, t.TempDir(), func(c *config) {
		c.Server.ConnsPerIP = limit
		c.Server.NewConnsPerIPMin = 1 << 20 // this test is about concurrent connections
	})
	key := newKey(t)
	var (
		admitted, refusedWithReason atomic.Int32
		mu                          sync.Mutex
		open                        []*ssh.Client
		wg                          sync.WaitGroup
		sem                         = make(chan struct{}, 64)
	)
	for range 1000 {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, banner, err := dialFrom(s.addr, "127.0.0.1", key)
			switch {
			case err == nil:
				admitted.Add(1)
				mu.Lock()
				open = append(open, c) // held open for the rest of the storm
				mu.Unlock()
			case strings.Contains(banner, "too many connections"):
				refusedWithReason.Add(1)
			}
		})
	}
	wg.Wait()
	if got := admitted.Load(); got > limit {
		t.Errorf("%d connections from one IP admitted, the limit is %d", got, limit)
	}
	if refusedWithReason.Load() == 0 {
		t.Error("no refused client was told why")
	}
	// Another address still gets in while the first one is at its limit.
	other, _, err := dialFrom(s.addr, "127.0.0.2", newKey(t))
	if err != nil {
		t.Fatalf("a client from another IP was refused during the storm: %v", err)
	}
	c := s.open(other, "neighbour", 80, 24)
	c.waitText("#lobby")
	for _, c := range open {
		c.Close()
	}
}

func TestNewConnectionRatePerIP(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config) {
		c.Server.ConnsPerIP = 4 // also the burst of new connections
		c.Server.NewConnsPerIPMin = 1
	})
	key := newKey(t)
	var banner string
	for i := range 6 {
		c, b, err := dialFrom(s.addr, "127.0.0.1", key)
		if err == nil {
			c.Close()
			continue
		}
		if i < 4 {
			t.Fatalf("connection %d refused within the burst: %v", i, err)
		}
		banner = b
	}
	if !strings.Contains(banner, "too many new connections") {
		t.Errorf("banner = %q, want the new-connection rate named", banner)
	}
}

func TestLoginTimeout(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config) { c.Server.LoginTimeout = 200 * time.Millisecond })
	raw, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Say nothing: the server must hang up on its own.
	_ = raw.SetReadDeadline(time.Now().Add(wait))
	_, err = io.Copy(io.Discard, raw)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatal("the server kept a silent connection open past the login timeout")
	}
}

// stalledConn stops reading from the network once stalled is set: a client
// whose TCP window fills up.
type stalledConn struct {
	net.Conn
	stalled atomic.Bool
	ctx     context.Context
}

func (c *stalledConn) Read(p []byte) (int, error) {
	if c.stalled.Load() {
		<-c.ctx.Done()
		return 0, net.ErrClosed
	}
	return c.Conn.Read(p)
}

// connectStallable connects a person whose connection can be made to stop
// reading from the network at once, by calling stall.
func (s *testServer) connectStallable(name string, width, height int) (stall func()) {
	t := s.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	raw, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	sc := &stalledConn{Conn: raw, ctx: ctx}
	conn, chans, reqs, err := ssh.NewClientConn(sc, s.addr, clientConfig(name, ssh.PublicKeys(newKey(t))))
	if err != nil {
		t.Fatal(err)
	}
	s.open(ssh.NewClient(conn, chans, reqs), name, width, height).waitText("#lobby")
	// Cleanups run last first: this one, then the client's close, which
	// waits for the stalled reader to give up.
	t.Cleanup(cancel)
	return func() { sc.stalled.Store(true) }
}

func TestStalledReaderIsDisconnectedOthersUnaffected(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config) {
		c.Server.OutputLimit = 64 << 10
		// Only the output queue may cut the staller: on a busy machine
		// the rounds can outlast a keepalive, which would cut it first.
		c.Server.Keepalive = time.Hour
		c.Server.MessageRate, c.Server.MessageBurst = 1000, 1000
		c.Server.ConnsPerIP, c.Server.NewConnsPerIPMin = 1000, 1<<20
	})
	// The stalled client: a big screen, so every frame is large.
	stall := s.connectStallable("staller", 500, 200)
	stall()

	// Fifty others chat, each over its own connection; one person watches.
	watcher := s.connect("watcher", newKey(t), 100, 30)
	watcher.waitText("#lobby")
	chatters := make([]*ssh.Client, 50)
	for i := range chatters {
		c, err := ssh.Dial("tcp", s.addr, clientConfig(fmt.Sprintf("user%d", i), ssh.PublicKeys(newKey(t))))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		chatters[i] = c
	}
	filler := strings.Repeat("filler ", 40)
	var leave hub.Event
	stallerLeft := func() bool {
		for _, ev := range s.events() {
			if ev.Name == "staller" && ev.Type == hub.EventTypeLeave {
				leave = ev
				return true
			}
		}
		return false
	}
	for round := 0; round < 1000 && !stallerLeft(); round++ {
		var wg sync.WaitGroup
		for i, c := range chatters {
			wg.Go(func() {
				sess, err := c.NewSession()
				if err != nil {
					t.Error(err)
					return
				}
				defer sess.Close()
				if err := sess.Run(fmt.Sprintf("say r%di%d %s", round, i, filler)); err != nil {
					t.Errorf("say: %v", err)
				}
			})
		}
		wg.Wait()
	}
	// The server cut the client that stopped reading, and told the room;
	// the others chat on.
	if !stallerLeft() {
		t.Fatal("the client that stopped reading was never disconnected")
	}
	if want := "evicted: output queue full"; leave.Reason != want {
		t.Errorf("the staller left with reason %q, want %q", leave.Reason, want)
	}
	watcher.say("still fluid")
	watcher.waitText("watcher: still fluid")
	if strings.Contains(watcher.screen(), "watcher left") {
		t.Error("a reading client was disconnected")
	}
}

func TestKeepaliveCutsVanishedPeer(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config) { c.Server.Keepalive = 100 * time.Millisecond })
	stall := s.connectStallable("ghost", 80, 24)
	watcher := s.connect("watcher", newKey(t), 80, 24)
	watcher.waitText("ghost")
	stall() // the peer is gone, but TCP does not know it yet
	watcher.waitLeft("ghost")
}

func TestIdleTimeout(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config) { c.Server.IdleTimeout = 300 * time.Millisecond })
	conn, sess := s.session("quiet", newKey(t))
	// A tail of a silent room: no traffic either way.
	if err := sess.Start("tail"); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- conn.Wait() }()
	select {
	case <-ended:
	case <-time.After(wait):
		t.Fatal("a connection without traffic outlived the idle timeout")
	}
}
