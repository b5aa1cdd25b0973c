package ai

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder collects flushes and checks they never overlap.
type recorder struct {
	mu      sync.Mutex
	flushes []string
	busy    bool
	overlap bool
	delay   time.Duration
}

func (r *recorder) flush(text string) {
	r.mu.Lock()
	if r.busy {
		r.overlap = true
	}
	r.busy = true
	r.mu.Unlock()
	time.Sleep(r.delay)
	r.mu.Lock()
	r.flushes = append(r.flushes, text)
	r.busy = false
	r.mu.Unlock()
}

func (r *recorder) all() (string, int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.flushes, ""), len(r.flushes), r.overlap
}

func TestCoalescerKeepsOrderAndEverything(t *testing.T) {
	r := &recorder{delay: 100 * time.Microsecond}
	c := NewCoalescer(time.Millisecond, r.flush)
	var want strings.Builder
	for i := range 2000 {
		d := fmt.Sprintf("<%d>", i)
		want.WriteString(d)
		c.Add(d)
		if i%100 == 0 {
			time.Sleep(2 * time.Millisecond) // let timers fire mid-stream
		}
	}
	c.Close()
	got, _, overlap := r.all()
	if got != want.String() {
		t.Fatalf("flushed text differs: %d bytes, want %d", len(got), want.Len())
	}
	if overlap {
		t.Error("flush ran concurrently with itself")
	}
}

func TestCoalescerConcurrentAdds(t *testing.T) {
	r := &recorder{}
	c := NewCoalescer(time.Millisecond, r.flush)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				c.Add(fmt.Sprintf("%c%03d;", 'a'+w, i))
			}
		})
	}
	wg.Wait()
	c.Close()
	got, _, overlap := r.all()
	if overlap {
		t.Error("flush ran concurrently with itself")
	}
	// Each writer's pieces arrive whole, all of them, in its own order.
	next := map[byte]int{}
	for _, piece := range strings.Split(strings.TrimSuffix(got, ";"), ";") {
		var n int
		if _, err := fmt.Sscanf(piece[1:], "%d", &n); err != nil || n != next[piece[0]] {
			t.Fatalf("piece %q out of order (want %c%03d)", piece, piece[0], next[piece[0]])
		}
		next[piece[0]]++
	}
	for w := range 4 {
		if next[byte('a'+w)] != 500 {
			t.Errorf("writer %c: %d pieces, want 500", 'a'+w, next[byte('a'+w)])
		}
	}
}

func TestCoalescerFirstDeltaAtOnceRestOnClose(t *testing.T) {
	r := &recorder{}
	c := NewCoalescer(time.Hour, r.flush)
	c.Add("first")
	if got, n, _ := r.all(); n != 1 || got != "first" {
		t.Fatalf("after the first Add: %d flushes %q, want it flushed at once", n, got)
	}
	c.Add(" second")
	c.Add("")
	c.Add(" third")
	if _, n, _ := r.all(); n != 1 {
		t.Fatalf("%d flushes within the interval, want 1", n)
	}
	c.Close()
	if got, n, _ := r.all(); n != 2 || got != "first second third" {
		t.Fatalf("after Close: %d flushes %q", n, got)
	}
	c.Close() // idempotent
	c.Add(" late")
	if got, n, _ := r.all(); n != 3 || got != "first second third late" {
		t.Errorf("Add after Close: %d flushes %q, want it flushed at once", n, got)
	}
}

func TestCoalescerFlushesOnTimer(t *testing.T) {
	flushed := make(chan string, 4)
	c := NewCoalescer(time.Millisecond, func(s string) { flushed <- s })
	defer c.Close()
	c.Add("a")
	c.Add("b")
	if got := <-flushed; got != "a" {
		t.Fatalf("first flush %q", got)
	}
	select {
	case got := <-flushed:
		if got != "b" {
			t.Errorf("timer flush %q, want b", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the pending delta was never flushed by the timer")
	}
}
