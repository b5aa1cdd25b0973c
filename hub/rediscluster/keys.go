package rediscluster

import (
	"strings"

	"github.com/redis/go-redis/v9"
)

// The Redis layout. P is Options.Prefix. An app's state keys share the
// hash tag {app}, so each Lua script touches one slot on Redis Cluster;
// a node's keys share {node}.
//
//	P:t:{app}:{channel}        topic: publications to the channel
//	P:{app}:s:{channel}        hash node → local subscription count
//	P:{app}:chans              set of channels occupied somewhere
//	P:{app}:pm:{channel}       hash user NUL node → user_info
//	P:{app}:pu:{channel}       hash user → how many nodes hold the user
//	P:{app}:c:{channel}        a cache channel's last event, 30 min TTL
//	P:nodes                    set of live node ids
//	P:node:{id}:alive          the node's lease, renewed every heartbeat
//	P:node:{id}:subs           set of app NUL channel the node counts in
//	P:node:{id}:members        set of app NUL channel NUL user it holds
//	P:node:{id}:reaper         taken by the survivor cleaning up after it
//	P:leader                   the replica that runs cluster-wide singletons
type keys struct{ prefix string }

func (k keys) topic(app, channel string) string { return k.prefix + ":t:" + app + ":" + channel }

// splitTopic undoes topic. Channel names never contain a colon, so the
// last one separates the app from the channel.
func (k keys) splitTopic(topic string) (app, channel string, ok bool) {
	rest, ok := strings.CutPrefix(topic, k.prefix+":t:")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

func (k keys) app(app, suffix string) string {
	return k.prefix + ":{" + app + "}:" + suffix
}

func (k keys) subs(app, channel string) string     { return k.app(app, "s:"+channel) }
func (k keys) chans(app string) string             { return k.app(app, "chans") }
func (k keys) members(app, channel string) string  { return k.app(app, "pm:"+channel) }
func (k keys) users(app, channel string) string    { return k.app(app, "pu:"+channel) }
func (k keys) cache(app, channel string) string    { return k.app(app, "c:"+channel) }
func (k keys) nodes() string                       { return k.prefix + ":nodes" }
func (k keys) leader() string                      { return k.prefix + ":leader" }
func (k keys) node(id, suffix string) string       { return k.prefix + ":node:{" + id + "}:" + suffix }
func (k keys) nodeAlive(id string) string          { return k.node(id, "alive") }
func (k keys) nodeSubs(id string) string           { return k.node(id, "subs") }
func (k keys) nodeMembers(id string) string        { return k.node(id, "members") }
func (k keys) nodeReaper(id string) string         { return k.node(id, "reaper") }
func subsEntry(app, channel string) string         { return app + "\x00" + channel }
func memberEntry(app, channel, user string) string { return app + "\x00" + channel + "\x00" + user }

// setSubs sets a node's subscription count on a channel (0 removes it)
// and reports 1 when the channel became occupied cluster-wide, -1 when it
// became vacant, 0 otherwise.
// KEYS: subs, chans. ARGV: node, count, channel.
var setSubs = redis.NewScript(`
local before = redis.call('HLEN', KEYS[1])
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
local after = redis.call('HLEN', KEYS[1])
if before == 0 and after > 0 then
  redis.call('SADD', KEYS[2], ARGV[3])
  return 1
end
if before > 0 and after == 0 then
  redis.call('SREM', KEYS[2], ARGV[3])
  return -1
end
return 0`)

// joinMember records that a node holds a presence user and reports 1 when
// the user became a member cluster-wide.
// KEYS: members, users. ARGV: user, node, user_info.
var joinMember = redis.NewScript(`
if redis.call('HSET', KEYS[1], ARGV[1] .. '\0' .. ARGV[2], ARGV[3]) == 1 then
  if redis.call('HINCRBY', KEYS[2], ARGV[1], 1) == 1 then
    return 1
  end
end
return 0`)

// leaveMember records that a node no longer holds a presence user and
// reports 1 when the user stopped being a member cluster-wide.
// KEYS: members, users. ARGV: user, node.
var leaveMember = redis.NewScript(`
if redis.call('HDEL', KEYS[1], ARGV[1] .. '\0' .. ARGV[2]) == 1 then
  if redis.call('HINCRBY', KEYS[2], ARGV[1], -1) <= 0 then
    redis.call('HDEL', KEYS[2], ARGV[1])
    return 1
  end
end
return 0`)

// globEscape escapes a literal for a Redis MATCH pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// holdLease takes a free lease or renews one already held, reporting 1
// when the caller holds it.
// KEYS: lease. ARGV: holder, ttl ms.
var holdLease = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`)

// dropLease releases a lease if the caller holds it.
// KEYS: lease. ARGV: holder.
var dropLease = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)
