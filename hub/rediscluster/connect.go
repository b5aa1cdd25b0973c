package rediscluster

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/redis/go-redis/v9"
)

// Connect returns a Redis client for a URL, in go-redis's URL forms:
//
//	redis://[user:pass@]host:port[/db]   one Redis (rediss:// for TLS,
//	                                     unix:///path.sock for a socket)
//	redis://host:port?master_name=M&addr=host2:port
//	                                     Sentinel: the sentinels' addresses
//	redis://host:port?addr=host2:port&addr=host3:port
//	                                     Redis Cluster: seed nodes
//
// Timeouts and pool sizes can be set as query parameters (dial_timeout=2s,
// read_timeout=3s, pool_size=20 ...), as go-redis documents.
func Connect(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		opt, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis sentinel url: %w", err)
		}
		return redis.NewFailoverClient(opt), nil
	case q.Has("addr"):
		opt, err := redis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis cluster url: %w", err)
		}
		return redis.NewClusterClient(opt), nil
	default:
		opt, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		return redis.NewClient(opt), nil
	}
}

// LogTo sends go-redis's own log lines (reconnects, pool errors) to l at
// debug level: the broker reports what matters to the operator itself,
// once per outage instead of once per attempt. It applies process-wide.
func LogTo(l *slog.Logger) {
	redis.SetLogger(printfLogger{l})
}

type printfLogger struct{ l *slog.Logger }

func (p printfLogger) Printf(ctx context.Context, format string, v ...any) {
	p.l.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}
