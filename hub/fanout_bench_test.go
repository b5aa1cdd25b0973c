package hub

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The fan-out benchmarks publish one event to a channel with N subscribers
// and count deliveries/s, against a baseline that writes the same
// pre-encoded frame to the same kind of sockets with no hub at all (one
// writer goroutine per core, each owning a share of the sockets).
//
// The subscribers live in a child process (this test binary re-executed as
// a "sink"): 10k subscribers and their 10k server sockets would not fit in
// one process's file limit, and a separate process is closer to real
// clients anyway. Publishes go in windows of fanoutWindow events; each
// window waits until every subscriber has received it, so neither side
// builds an unbounded backlog.
//
//	go test -run '^$' -bench Fanout -benchtime 200x ./hub/

const fanoutWindow = 16

func TestMain(m *testing.M) {
	if url := os.Getenv("HUB_BENCH_SINK"); url != "" {
		os.Exit(runSink(url))
	}
	os.Exit(m.Run())
}

func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("hub/subs=%d", n), func(b *testing.B) { benchHubFanout(b, n) })
		b.Run(fmt.Sprintf("baseline/subs=%d", n), func(b *testing.B) { benchBaselineFanout(b, n) })
	}
}

func benchHubFanout(b *testing.B, n int) {
	store, err := NewStaticApps(testApp)
	if err != nil {
		b.Fatal(err)
	}
	h, err := New(Options{Apps: store, SendQueueFrames: 4 * fanoutWindow, MaxChannelsPerConnection: 1})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())

	sink := startSink(b, "ws"+strings.TrimPrefix(srv.URL, "http")+"/app/"+testApp.Key+"?protocol=7", n, "fanout")
	defer sink.stop()
	app, _ := store.AppByID(context.Background(), testApp.ID)
	ev := Event{Name: "tick", Channels: []string{"fanout"}, Data: `{"n":1,"text":"a message of a typical size for an inbox event"}`}

	b.ResetTimer()
	start := time.Now()
	sent := 0
	for sent < b.N {
		w := min(fanoutWindow, b.N-sent)
		for range w {
			if err := h.Publish(context.Background(), app, ev); err != nil {
				b.Fatal(err)
			}
		}
		sent += w
		sink.await(b, sent*n)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*n)/time.Since(start).Seconds(), "deliveries/s")
	if c := h.Connections(); c != n {
		b.Fatalf("%d connections left of %d: subscribers were dropped", c, n)
	}
}

func benchBaselineFanout(b *testing.B, n int) {
	var (
		mu    sync.Mutex
		conns []*websocket.Conn
		done  = make(chan struct{})
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		ctx := ws.CloseRead(context.Background())
		mu.Lock()
		conns = append(conns, ws)
		mu.Unlock()
		select {
		case <-ctx.Done():
		case <-done:
		}
		ws.CloseNow()
	}))
	defer srv.Close()
	defer close(done)

	sink := startSink(b, "ws"+strings.TrimPrefix(srv.URL, "http")+"/raw", n, "")
	defer sink.stop()
	// A client's dial can complete before the server handler records the
	// socket; wait until all n are recorded.
	var socks []*websocket.Conn
	for deadline := time.Now().Add(30 * time.Second); len(socks) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d sockets accepted", len(socks), n)
		}
		mu.Lock()
		socks = conns
		mu.Unlock()
	}
	frame := encodeEvent("tick", "fanout", `{"n":1,"text":"a message of a typical size for an inbox event"}`)
	workers := runtime.GOMAXPROCS(0)

	b.ResetTimer()
	start := time.Now()
	sent := 0
	for sent < b.N {
		w := min(fanoutWindow, b.N-sent)
		var wg sync.WaitGroup
		for k := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := k; i < len(socks); i += workers {
					for range w {
						if err := socks[i].Write(context.Background(), websocket.MessageText, frame); err != nil {
							b.Error(err)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		sent += w
		sink.await(b, sent*n)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*n)/time.Since(start).Seconds(), "deliveries/s")
}

// sink is the child process holding the subscribers.
type sink struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// startSink starts n subscribers on url (subscribed to channel when it is
// set) and waits until all are ready.
func startSink(b *testing.B, url string, n int, channel string) *sink {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "HUB_BENCH_SINK="+url, "HUB_BENCH_N="+strconv.Itoa(n), "HUB_BENCH_CHANNEL="+channel)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s := &sink{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	if line := s.line(b); line != "ready" {
		s.stop()
		b.Fatalf("sink: %s", line)
	}
	return s
}

func (s *sink) line(b *testing.B) string {
	if !s.out.Scan() {
		b.Fatalf("sink exited: %v", s.out.Err())
	}
	return s.out.Text()
}

// await blocks until the subscribers have received total messages.
func (s *sink) await(b *testing.B, total int) {
	fmt.Fprintf(s.in, "%d\n", total)
	if line := s.line(b); line != "ok" {
		b.Fatalf("sink: %s", line)
	}
}

func (s *sink) stop() {
	s.in.Close()
	s.cmd.Wait()
}

// runSink is the child process: it connects the subscribers, then answers
// each target count on stdin with "ok" once that many messages arrived.
func runSink(url string) int {
	n, _ := strconv.Atoi(os.Getenv("HUB_BENCH_N"))
	channel := os.Getenv("HUB_BENCH_CHANNEL")
	var received atomic.Int64
	conns := make([]*websocket.Conn, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var failed atomic.Value
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
			if err != nil {
				failed.Store(err.Error())
				return
			}
			if channel != "" {
				ws.Read(ctx) // connection_established
				ws.Write(ctx, websocket.MessageText, []byte(`{"event":"pusher:subscribe","data":{"channel":"`+channel+`"}}`))
				ws.Read(ctx) // subscription_succeeded
			}
			conns[i] = ws
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(string); ok {
		fmt.Println("dial failed:", err)
		return 1
	}
	for _, ws := range conns {
		go func() {
			for {
				_, r, err := ws.Reader(context.Background())
				if err != nil {
					return
				}
				io.Copy(io.Discard, r)
				received.Add(1)
			}
		}()
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		want, _ := strconv.ParseInt(in.Text(), 10, 64)
		deadline := time.Now().Add(time.Minute)
		for received.Load() < want {
			if time.Now().After(deadline) {
				fmt.Printf("timeout: %d of %d received\n", received.Load(), want)
				return 1
			}
			time.Sleep(200 * time.Microsecond)
		}
		fmt.Println("ok")
	}
	for _, ws := range conns {
		ws.CloseNow()
	}
	return 0
}
