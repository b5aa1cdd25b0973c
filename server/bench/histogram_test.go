package bench

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

func TestBucketBounds(t *testing.T) {
	values := []int64{0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 1000, 999_999, 1 << 39, 1<<40 - 1}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		values = append(values, r.Int64N(1<<40))
	}
	for _, v := range values {
		i := bucketOf(v)
		lo, hi := bucketLower(i), bucketUpper(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d [%d, %d]", v, i, lo, hi)
		}
		if v >= histSub && float64(hi-lo+1)/float64(lo) > 1.0/histSub {
			t.Fatalf("bucket %d [%d, %d] wider than 1/%d of its value", i, lo, hi, histSub)
		}
	}
	// Buckets tile the range with no gap or overlap.
	for i := 1; i < histBuckets-1; i++ {
		if bucketLower(i) != bucketUpper(i-1)+1 {
			t.Fatalf("gap between bucket %d (upper %d) and %d (lower %d)", i-1, bucketUpper(i-1), i, bucketLower(i))
		}
	}
	if got := bucketOf(math.MaxInt64); got != histBuckets-1 {
		t.Errorf("huge value in bucket %d, want the last, %d", got, histBuckets-1)
	}
}

func TestQuantile(t *testing.T) {
	seq := func(from, to, step int64) []int64 {
		var out []int64
		for v := from; v <= to; v += step {
			out = append(out, v)
		}
		return out
	}
	tests := []struct {
		name   string
		values []int64
		q      float64
		want   int64
		// tolerance: the answer may be up to this fraction above want,
		// never below it.
		tolerance float64
	}{
		{name: "empty", values: nil, q: 0.5, want: 0},
		{name: "one value is every percentile", values: []int64{123_456_789}, q: 0.99, want: 123_456_789},
		{name: "max is exact", values: []int64{5, 7, 1_000_003}, q: 1, want: 1_000_003},
		{name: "small values are exact", values: seq(1, 10, 1), q: 0.5, want: 5},
		{name: "p90 of small values", values: seq(1, 10, 1), q: 0.9, want: 9},
		{name: "p0 is the smallest", values: seq(3, 12, 1), q: 0, want: 3},
		{name: "negative counts as zero", values: []int64{-5, -1}, q: 0.5, want: 0},
		{name: "p50 of 1..1000 µs", values: seq(1000, 1_000_000, 1000), q: 0.5, want: 500_000, tolerance: 1.0 / histSub},
		{name: "p99 of 1..1000 µs", values: seq(1000, 1_000_000, 1000), q: 0.99, want: 990_000, tolerance: 1.0 / histSub},
		{name: "p90 of 1..10 s", values: seq(1e9, 10e9, 1e9), q: 0.9, want: 9e9, tolerance: 1.0 / histSub},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			for _, v := range tt.values {
				h.record(v)
			}
			var s histSnapshot
			h.addTo(&s)
			got := s.quantile(tt.q)
			if got < tt.want || float64(got-tt.want) > tt.tolerance*float64(tt.want) {
				t.Errorf("quantile(%v) = %d, want %d (+%.2f%%)", tt.q, got, tt.want, tt.tolerance*100)
			}
		})
	}
}

func TestHistogramMergeAndMean(t *testing.T) {
	var a, b histogram
	var wg sync.WaitGroup
	for i := range 8 {
		h := &a
		if i%2 == 1 {
			h = &b
		}
		wg.Go(func() {
			for v := range int64(1000) {
				h.record(v)
			}
		})
	}
	wg.Wait()
	var s histSnapshot
	a.addTo(&s)
	b.addTo(&s)
	if s.n != 8000 || s.max != 999 {
		t.Errorf("merged n %d max %d, want 8000 and 999", s.n, s.max)
	}
	if got := s.mean(); got != 499.5 {
		t.Errorf("mean = %v, want 499.5", got)
	}
}
