package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"
)

// TestSignQueryMatchesPusherSDK signs what Pusher's own Go server library
// sends and expects the very same signature: the bench must authenticate
// against any server that accepts the official SDKs.
func TestSignQueryMatchesPusherSDK(t *testing.T) {
	type captured struct {
		path  string
		query url.Values
		body  []byte
	}
	got := make(chan captured, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- captured{r.URL.Path, r.URL.Query(), body}
		_, _ = w.Write([]byte("{}"))
	}))
	t.Cleanup(srv.Close)

	sdk := pusher.Client{AppID: "app-id", Key: "app-key", Secret: "app-secret", Host: strings.TrimPrefix(srv.URL, "http://")}
	if err := sdk.Trigger("bench-0", "bench", "sbbench:0:0:1:xx"); err != nil {
		t.Fatalf("sdk trigger: %v", err)
	}
	c := <-got
	ts, err := strconv.ParseInt(c.query.Get("auth_timestamp"), 10, 64)
	if err != nil {
		t.Fatalf("auth_timestamp: %v", err)
	}
	ours := signQuery(http.MethodPost, c.path, "app-key", "app-secret", c.body, time.Unix(ts, 0))
	for _, k := range []string{"auth_key", "auth_timestamp", "auth_version", "body_md5", "auth_signature"} {
		if ours.Get(k) != c.query.Get(k) {
			t.Errorf("%s = %q, the SDK sent %q", k, ours.Get(k), c.query.Get(k))
		}
	}
	if len(ours) != len(c.query) {
		t.Errorf("params %v, the SDK sent %v", ours, c.query)
	}
}

func TestSignQueryWithoutBody(t *testing.T) {
	q := signQuery(http.MethodGet, "/apps/1/channels", "k", "s", nil, time.Unix(1700000000, 0))
	if q.Has("body_md5") {
		t.Error("body_md5 set for an empty body")
	}
	// openssl dgst -sha256 -hmac s of "GET\n/apps/1/channels\nauth_key=k&auth_timestamp=1700000000&auth_version=1.0"
	const want = "ea1e351b5d820b5cc5a483e14498c79afc610f0066cb9db54e1bf7e12084a053"
	if got := q.Get("auth_signature"); got != want {
		t.Errorf("auth_signature = %s, want %s", got, want)
	}
}

func TestPaceLaunchesEveryIndexOnce(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		total int
		slots int
	}{
		{"unpaced", 0, 500, 7},
		{"paced fast", 100000, 300, 3},
		{"nothing to do", 10, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sem := make(chan struct{}, tt.slots)
			seen := make([]atomic.Int32, tt.total)
			done := make(chan struct{}, tt.total)
			n, err := pace(t.Context(), tt.rate, tt.total, sem, func(i int) {
				go func() {
					seen[i].Add(1)
					<-sem
					done <- struct{}{}
				}()
			})
			if err != nil || n != tt.total {
				t.Fatalf("pace = %d, %v; want %d, nil", n, err, tt.total)
			}
			for range tt.total {
				<-done
			}
			for i := range seen {
				if seen[i].Load() != 1 {
					t.Fatalf("index %d launched %d times", i, seen[i].Load())
				}
			}
		})
	}
}

func TestPaceStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	sem := make(chan struct{}, 1)
	launched := 0
	n, err := pace(ctx, 0, 10, sem, func(int) {
		launched++
		cancel() // the slot is never released; pace must not wait forever
	})
	if err == nil || n != launched || n != 1 {
		t.Errorf("pace = %d, %v after %d launches; want 1 and context.Canceled", n, err, launched)
	}
}
