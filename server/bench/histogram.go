package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// The histogram is log-linear: values below histSub are counted exactly,
// every power of two above is split into histSub equal buckets, so a
// reported percentile is at most 1/histSub (6.25%) above the true value.
// That is plenty for latency and needs no dependency.
const (
	histSubBits = 4
	histSub     = 1 << histSubBits
	// histMaxExp: values from 2^histMaxExp ns (about 18 minutes) up share
	// one overflow bucket, the last; the exact maximum is tracked separately.
	histMaxExp  = 40
	histBuckets = (histMaxExp-histSubBits+1)*histSub + 1
)

// histogram counts non-negative values (nanoseconds) concurrently. Record
// is lock-free; readers take a snapshot once writers are done or accept a
// slightly torn view for progress output.
type histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64
	max    atomic.Int64
}

// record adds one value; negative values (a clock step) count as zero.
func (h *histogram) record(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(uint64(v))
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// addTo merges h into s.
func (h *histogram) addTo(s *histSnapshot) {
	for i := range h.counts {
		s.counts[i] += h.counts[i].Load()
	}
	s.n += h.n.Load()
	s.sum += h.sum.Load()
	s.max = max(s.max, h.max.Load())
}

// histSnapshot is a plain copy of one or more histograms, for percentiles.
type histSnapshot struct {
	counts [histBuckets]uint64
	n      uint64
	sum    uint64
	max    int64
}

// quantile returns the smallest bucket bound at or below which a fraction q
// of the values lie, capped at the exact maximum; 0 when empty.
func (s *histSnapshot) quantile(q float64) int64 {
	if s.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(s.n)))
	rank = min(max(rank, 1), s.n)
	var seen uint64
	for i, c := range s.counts {
		seen += c
		if seen >= rank {
			return min(bucketUpper(i), s.max)
		}
	}
	return s.max
}

// add merges o into s.
func (s *histSnapshot) add(o *histSnapshot) {
	for i := range o.counts {
		s.counts[i] += o.counts[i]
	}
	s.n += o.n
	s.sum += o.sum
	s.max = max(s.max, o.max)
}

// mean returns the average value; 0 when empty.
func (s *histSnapshot) mean() float64 {
	if s.n == 0 {
		return 0
	}
	return float64(s.sum) / float64(s.n)
}

// bucketOf returns the bucket index of v >= 0.
func bucketOf(v int64) int {
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 1
	if e >= histMaxExp {
		return histBuckets - 1
	}
	sub := int(v>>(e-histSubBits)) & (histSub - 1)
	return (e-histSubBits+1)*histSub + sub
}

// bucketLower returns the smallest value in bucket i.
func bucketLower(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	e := i/histSub + histSubBits - 1
	sub := int64(i % histSub)
	return (histSub + sub) << (e - histSubBits)
}

// bucketUpper returns the largest value in bucket i; the last bucket is
// open-ended.
func bucketUpper(i int) int64 {
	if i == histBuckets-1 {
		return math.MaxInt64
	}
	if i < histSub {
		return int64(i)
	}
	e := i/histSub + histSubBits - 1
	return bucketLower(i) + 1<<(e-histSubBits) - 1
}
