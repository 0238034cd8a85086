package main

import (
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestQuantilesNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := quantiles(ds, 0, 0.5, 0.9, 0.99, 1)
	want := []time.Duration{1, 50, 90, 99, 100}
	for i := range want {
		want[i] *= time.Millisecond
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := quantiles(nil, 0.5); got[0] != 0 {
		t.Errorf("empty: got %v", got)
	}
	if got := quantiles([]time.Duration{7}, 0.01, 0.99); got[0] != 7 || got[1] != 7 {
		t.Errorf("one value: got %v", got)
	}
}

func TestBucketsCoverEveryValue(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 255, 256, 257, 511, 512, 1000, 1 << 20, 1<<20 + 12345, 1<<40 - 1, 1 << 47} {
		i := bucketOf(v)
		low, width := bucketRange(i)
		if v < low || v >= low+width {
			t.Errorf("%d in bucket %d = [%d, %d)", v, i, low, low+width)
		}
		if i < prev {
			t.Errorf("bucket of %d is %d, below the one of a smaller value (%d)", v, i, prev)
		}
		prev = i
		if width > 1 && float64(width)/float64(low) > 1.0/subBuckets {
			t.Errorf("bucket %d: width %d is more than 1/%d of %d", i, width, subBuckets, low)
		}
	}
	if i := bucketOf(^uint64(0)); i >= (maxShift+2)*subBuckets {
		t.Errorf("largest value: bucket %d out of range", i)
	}
}

func TestHistogramMatchesExactQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := newHistogram()
	var ds []time.Duration
	for range 100000 {
		// A long tail: mostly tens of milliseconds, a few seconds.
		d := time.Duration(rng.ExpFloat64() * float64(40*time.Millisecond))
		d = d.Truncate(time.Microsecond)
		h.add(d)
		ds = append(ds, d)
	}
	qs := []float64{0.5, 0.9, 0.99, 0.999}
	exact := quantiles(ds, qs...)
	for i, q := range qs {
		got := h.quantile(q)
		if diff := (got - exact[i]).Abs(); float64(diff) > float64(exact[i])/100 {
			t.Errorf("q%v: histogram %v, exact %v", q, got, exact[i])
		}
	}
	if h.max() != ds[len(ds)-1] {
		t.Errorf("max %v, want %v", h.max(), ds[len(ds)-1])
	}
	if h.count() != uint64(len(ds)) {
		t.Errorf("count %d, want %d", h.count(), len(ds))
	}
}

func TestHistogramSmallAndEmpty(t *testing.T) {
	h := newHistogram()
	if h.quantile(0.5) != 0 || h.max() != 0 || h.mean() != 0 {
		t.Fatal("empty histogram is not all zero")
	}
	for _, d := range []time.Duration{-time.Second, 10 * time.Microsecond, 30 * time.Microsecond} {
		h.add(d)
	}
	if got := h.quantile(0.5); got != 10*time.Microsecond {
		t.Errorf("p50 %v, want 10µs", got)
	}
	if got := h.quantile(0); got != 0 {
		t.Errorf("p0 %v, want 0 (a negative duration counts as 0)", got)
	}
	if got := h.quantile(1); got != 30*time.Microsecond {
		t.Errorf("p100 %v, want 30µs", got)
	}
}

func TestHistogramConcurrentAdds(t *testing.T) {
	h := newHistogram()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				h.add(time.Duration(g*1000+i) * time.Microsecond)
			}
		})
	}
	wg.Wait()
	if h.count() != 8000 || h.max() != 7999*time.Microsecond {
		t.Fatalf("count %d, max %v", h.count(), h.max())
	}
}

func TestParseStat(t *testing.T) {
	stat := "1234 (ssh chat) (x)) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 12 0 100 1000000 2000 18446744073709551615"
	cpu, state, err := parseStat([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if state != 'S' || cpu != 3250*time.Millisecond {
		t.Fatalf("state %c, cpu %v; want S and 3.25s", state, cpu)
	}
	if _, _, err := parseStat([]byte("1 (x) S 1 2")); err == nil {
		t.Error("a short line was accepted")
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, a := range []string{"127.0.0.1:2222", "[::1]:22", "127.1.2.3:1"} {
		if err := checkLoopback(a); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
	for _, a := range []string{"10.0.0.1:22", "localhost:22", "example.com:22", ":2222", "0.0.0.0:22", "127.0.0.1"} {
		if err := checkLoopback(a); err == nil {
			t.Errorf("%s accepted", a)
		}
	}
}

func TestFlagLimits(t *testing.T) {
	var sink strings.Builder
	bad := [][]string{
		{"-n", "10001"},
		{"-duration", "601s"},
		{"-addr", "192.168.1.1:22"},
		{"-senders", "0"},
		{"-senders", "200", "-n", "100"},
		{"-sigterm"},
		{"-flood", "x"},                              // without -idle
		{"-idle", "-flood", strings.Repeat("x", 65)}, // too long
		{"-idle", "-flood", `\x`},                    // not a Go string
		{"-idle", "-flood-resize", "-flood-global"},  // two floods
		{"-flood-global"},                            // without -idle
	}
	for _, args := range bad {
		if _, err := parseFlags(args, &sink); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	c, err := parseFlags([]string{"-n", "10000", "-duration", "600s", "-idle", "-pid", "1", "-sigterm"}, &sink)
	if err != nil {
		t.Fatal(err)
	}
	if c.ShutdownWait != 10*time.Second || c.messages() != 0 {
		t.Errorf("got %+v", c)
	}
	if c, err := parseFlags([]string{"-idle", "-flood", `\x1b[A"`}, &sink); err != nil || c.Flood != "\x1b[A\"" {
		t.Errorf("-flood: %q, %v", c.Flood, err)
	}
}

func TestSourceAddrSpreadsOverLoopback(t *testing.T) {
	c := config{Addr: "127.0.0.1:2222", PerSource: 16}
	seen := map[string]int{}
	for i := range 10000 {
		a, ok := c.sourceAddr(i).(*net.TCPAddr)
		if !ok || !a.IP.IsLoopback() {
			t.Fatalf("session %d: %v is not a loopback address", i, c.sourceAddr(i))
		}
		seen[a.IP.String()]++
	}
	for ip, n := range seen {
		if n > 16 {
			t.Errorf("%s holds %d sessions", ip, n)
		}
	}
	if c.sourceAddr(0).String() != "127.1.0.1:0" || c.sourceAddr(16).String() != "127.1.0.2:0" {
		t.Errorf("got %v and %v", c.sourceAddr(0), c.sourceAddr(16))
	}
	for _, c := range []config{{Addr: "[::1]:22", PerSource: 16}, {Addr: "127.0.0.1:22"}} {
		if a := c.sourceAddr(5); a != nil {
			t.Errorf("%+v: got %v, want the system's choice", c, a)
		}
	}
}
