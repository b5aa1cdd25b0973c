package rediscluster

import (
	"bytes"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboard-inbox/switchboard/hub"
)

func TestMessageRoundTrip(t *testing.T) {
	p := hub.Publication{AppID: "a:1", Channel: "cache-x", Event: "e", Data: `{"a":1}`, SocketID: "1.2",
		Frame: []byte(`{"event":"e"}`), Cacheable: true}
	sent := time.Unix(0, 1234567890)
	m, err := decodeMessage(encodeMessage("node", sent, p))
	if err != nil {
		t.Fatal(err)
	}
	if m.origin != "node" || !m.sent.Equal(sent) || m.pub.AppID != p.AppID || m.pub.Channel != p.Channel ||
		m.pub.Event != p.Event || m.pub.Data != p.Data || m.pub.SocketID != p.SocketID ||
		!bytes.Equal(m.pub.Frame, p.Frame) || !m.pub.Cacheable || m.pub.Terminate {
		t.Fatalf("round trip: %+v", m)
	}
	// Data travels for cache channels only.
	p.Cacheable = false
	if m, _ := decodeMessage(encodeMessage("n", sent, p)); m.pub.Data != "" {
		t.Fatalf("data %q sent for a plain channel", m.pub.Data)
	}
	p.Terminate = true
	if m, _ := decodeMessage(encodeMessage("n", sent, p)); !m.pub.Terminate {
		t.Fatal("terminate flag lost")
	}
}

func TestMalformedMessages(t *testing.T) {
	good := encodeMessage("n", time.Now(), hub.Publication{AppID: "a", Channel: "c", Frame: []byte("{}")})
	for name, b := range map[string][]byte{
		"empty":         nil,
		"wrong version": append([]byte{9}, good[1:]...),
		"truncated":     good[:len(good)-1],
		"trailing":      append(append([]byte{}, good...), 0),
		"huge length":   {wireVersion, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		if _, err := decodeMessage(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	if _, err := decodeCached([]byte{wireVersion, 5, 'a'}); err == nil {
		t.Error("truncated cache entry decoded")
	}
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add(encodeMessage("n", time.Unix(1, 0), hub.Publication{AppID: "a", Channel: "c", Event: "e", Data: "d", Frame: []byte("{}"), Cacheable: true}))
	f.Add([]byte{wireVersion, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to a message that decodes the same.
		again, err := decodeMessage(encodeMessage(m.origin, m.sent, m.pub))
		if err != nil || again.origin != m.origin || again.pub.Channel != m.pub.Channel || !bytes.Equal(again.pub.Frame, m.pub.Frame) {
			t.Fatalf("re-encoding %+v: %+v, %v", m, again, err)
		}
	})
}

func TestTopicSplit(t *testing.T) {
	k := keys{prefix: "p"}
	app, ch, ok := k.splitTopic(k.topic("app:with:colons", "presence-x"))
	if !ok || app != "app:with:colons" || ch != "presence-x" {
		t.Fatalf("split: %q %q %v", app, ch, ok)
	}
}

func TestConnectURLs(t *testing.T) {
	for _, tc := range []struct {
		url     string
		cluster bool
		bad     bool
	}{
		{url: "redis://127.0.0.1:6379/2"},
		{url: "rediss://user:pass@cache:6380"},
		{url: "redis://s1:26379?master_name=main&addr=s2:26379"},
		{url: "redis://n1:7000?addr=n2:7000&addr=n3:7000", cluster: true},
		{url: "http://nope", bad: true},
		{url: "redis://h:1?no_such_option=1", bad: true},
	} {
		c, err := Connect(tc.url)
		if tc.bad {
			if err == nil {
				c.Close()
				t.Errorf("%s: accepted", tc.url)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if _, isCluster := c.(*redis.ClusterClient); isCluster != tc.cluster {
			t.Errorf("%s: client %T", tc.url, c)
		}
		c.Close()
	}
}
