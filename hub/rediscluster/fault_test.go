package rediscluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// privateRedis is a redis-server of the test's own on a loopback port, so
// it can be killed and restarted without touching the shared one.
type privateRedis struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("REQUIRE_SERVICES") == "1" {
			t.Fatalf("redis-server is required (REQUIRE_SERVICES=1) but not on PATH")
		}
		t.Skip("SKIPPING: redis-server is not on PATH; set REQUIRE_SERVICES=1 to make this a failure")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &privateRedis{t: t, port: port}
	r.start(bin)
	t.Cleanup(r.stop)
	return r
}

func (r *privateRedis) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *privateRedis) start(bin string) {
	r.t.Helper()
	r.cmd = exec.Command(bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.t.TempDir())
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port)})
	defer rdb.Close()
	eventually(r.t, 10*time.Second, func() error {
		return rdb.Ping(context.Background()).Err()
	})
}

func (r *privateRedis) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

func (r *privateRedis) restart() {
	bin, _ := exec.LookPath("redis-server")
	r.start(bin)
}

func TestRedisLostAndRecovered(t *testing.T) {
	checkGoroutines(t)
	pr := startPrivateRedis(t)
	rs := newCluster(t, 2, clusterOpts{url: pr.url(), prefix: "fault", heartbeat: 100 * time.Millisecond, timeout: time.Second})
	const ch = "presence-fault"
	alice := rs[0].connect(t)
	alice.join(ch, "alice")
	waitMembers(t, rs[1], ch, "alice")
	bob := rs[1].connect(t)
	bob.join(ch, "bob")
	alice.expect("pusher_internal:member_added")
	local := rs[0].connect(t)
	local.subscribe("feed", "")
	remote := rs[1].connect(t)
	remote.subscribe("feed", "")

	// Traffic through replica 0 while Redis dies.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			publish(t, rs[0], "feed", "tick", strconv.Itoa(i))
		}
	})
	local.expect("tick")
	remote.expect("tick")
	pr.stop()

	// Not ready, yet local delivery goes on and nothing blocks.
	for _, r := range rs {
		eventually(t, 5*time.Second, func() error {
			if r.hub.Ready(context.Background()) == nil {
				return errors.New("still ready without Redis")
			}
			return nil
		})
	}
	drain(local)
	local.expect("tick")
	// Stop before the subscribers, who are not reading, fall far enough
	// behind to be disconnected as slow consumers.
	close(stop)
	wg.Wait()
	// State changes while Redis is away: carol joins on replica 1, alice
	// leaves replica 0.
	carol := rs[1].connect(t)
	carol.join(ch, "carol")
	alice.sendJSON("pusher:unsubscribe", "", map[string]string{"channel": ch})

	pr.restart()
	for _, r := range rs {
		eventually(t, 10*time.Second, func() error { return r.hub.Ready(context.Background()) })
	}
	// Each replica re-sent its share: the empty Redis learns bob and carol,
	// and not alice.
	eventually(t, 10*time.Second, func() error {
		users, err := rs[0].hub.PresenceUsers(context.Background(), &testApp, ch)
		if err != nil {
			return err
		}
		if !slices.Equal(users, []string{"bob", "carol"}) {
			return fmt.Errorf("members %v", users)
		}
		info, err := rs[0].hub.Channel(context.Background(), &testApp, "feed")
		if err != nil {
			return err
		}
		if info.SubscriptionCount != 2 {
			return fmt.Errorf("feed has %d subscriptions", info.SubscriptionCount)
		}
		return nil
	})
	// Topics were re-subscribed: traffic flows between replicas again.
	drain(remote)
	eventually(t, 10*time.Second, func() error {
		publish(t, rs[0], "feed", "after", "{}")
		select {
		case f := <-remote.frames:
			if f.Event == "after" {
				return nil
			}
			return fmt.Errorf("got %s", f.Event)
		case <-time.After(200 * time.Millisecond):
			return errors.New("nothing crossed replicas")
		}
	})
}

// drain discards what a client has received so far.
func drain(c *client) {
	for {
		select {
		case <-c.frames:
		default:
			return
		}
	}
}
