package main

import (
	"math"
	"math/bits"
	"slices"
	"sync/atomic"
	"time"
)

// histogram counts durations in log-linear buckets of microseconds: exact
// below 256 µs, and within 1/128 (0.8 %) of the value above. It is safe
// for concurrent use and never allocates after newHistogram.
type histogram struct {
	counts []atomic.Uint64
	n      atomic.Uint64
	sumUS  atomic.Uint64
	maxUS  atomic.Uint64
}

const (
	subBits    = 7
	subBuckets = 1 << subBits // buckets per power of two
	maxShift   = 40           // values up to 2^48 µs (over 8 years)
)

func newHistogram() *histogram {
	return &histogram{counts: make([]atomic.Uint64, (maxShift+2)*subBuckets)}
}

// bucketOf is the index of the bucket holding v µs.
func bucketOf(v uint64) int {
	if v < 2*subBuckets {
		return int(v)
	}
	shift := min(bits.Len64(v)-(subBits+1), maxShift)
	sub := min(v>>shift, 2*subBuckets-1) - subBuckets
	return (shift+1)*subBuckets + int(sub)
}

// bucketRange is the lowest value of bucket i and the bucket's width.
func bucketRange(i int) (low, width uint64) {
	if i < 2*subBuckets {
		return uint64(i), 1
	}
	shift := i/subBuckets - 1
	return uint64(i%subBuckets+subBuckets) << shift, 1 << shift
}

// add counts one duration; negative ones count as zero.
func (h *histogram) add(d time.Duration) {
	us := uint64(max(d.Microseconds(), 0))
	h.counts[bucketOf(us)].Add(1)
	h.n.Add(1)
	h.sumUS.Add(us)
	for {
		m := h.maxUS.Load()
		if us <= m || h.maxUS.CompareAndSwap(m, us) {
			return
		}
	}
}

// count is how many durations were added.
func (h *histogram) count() uint64 { return h.n.Load() }

// max is the largest duration added.
func (h *histogram) max() time.Duration { return time.Duration(h.maxUS.Load()) * time.Microsecond }

// mean is the average duration added, or 0.
func (h *histogram) mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sumUS.Load()/n) * time.Microsecond
}

// quantile is the duration at or below which a fraction q of the
// durations lie (nearest rank), as the middle of its bucket; 0 when empty.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := nearestRank(q, int(n))
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= uint64(rank) {
			low, width := bucketRange(i)
			us := min(low+width/2, h.maxUS.Load())
			return time.Duration(us) * time.Microsecond
		}
	}
	return h.max()
}

// nearestRank is the 1-based rank of quantile q among n sorted values.
func nearestRank(q float64, n int) int {
	r := int(math.Ceil(q * float64(n)))
	return min(max(r, 1), n)
}

// quantiles is the exact nearest-rank quantiles of ds, for each q; zeros
// when ds is empty. ds is sorted in place.
func quantiles(ds []time.Duration, qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	if len(ds) == 0 {
		return out
	}
	slices.Sort(ds)
	for i, q := range qs {
		out[i] = ds[nearestRank(q, len(ds))-1]
	}
	return out
}
