package rediscluster

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/switchboard-inbox/switchboard/hub"
)

// The wire format of a publication on a topic, and of a cache channel's
// stored event. Both are a version byte, then fields as uvarint-length
// prefixed bytes; a publication adds flags and its send time. It is
// decoded on every replica for every message, so it is plain bytes, not
// JSON with a base64 frame.
const wireVersion = 1

const (
	flagCacheable = 1 << iota
	flagTerminate
)

var errMalformed = errors.New("rediscluster: malformed message")

// message is a publication as it travels between replicas.
type message struct {
	origin string
	sent   time.Time
	pub    hub.Publication
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func encodeMessage(origin string, sent time.Time, p hub.Publication) []byte {
	var flags byte
	if p.Cacheable {
		flags |= flagCacheable
	}
	if p.Terminate {
		flags |= flagTerminate
	}
	data := ""
	if p.Cacheable {
		data = p.Data // only cache channels need it, for the HTTP API
	}
	b := make([]byte, 0, 32+len(origin)+len(p.AppID)+len(p.Channel)+len(p.SocketID)+len(p.Event)+len(data)+len(p.Frame))
	b = append(b, wireVersion, flags)
	b = binary.AppendVarint(b, sent.UnixNano())
	b = appendString(b, origin)
	b = appendString(b, p.AppID)
	b = appendString(b, p.Channel)
	b = appendString(b, p.SocketID)
	b = appendString(b, p.Event)
	b = appendString(b, data)
	return appendBytes(b, p.Frame)
}

// reader consumes the fields of an encoded value.
type reader struct {
	b   []byte
	err error
}

func (r *reader) bytes() []byte {
	if r.err != nil {
		return nil
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)-k) {
		r.err = errMalformed
		return nil
	}
	v := r.b[k : k+int(n)]
	r.b = r.b[k+int(n):]
	return v
}

func (r *reader) string() string { return string(r.bytes()) }

func decodeMessage(b []byte) (message, error) {
	if len(b) < 2 || b[0] != wireVersion {
		return message{}, errMalformed
	}
	flags := b[1]
	nanos, k := binary.Varint(b[2:])
	if k <= 0 {
		return message{}, errMalformed
	}
	r := reader{b: b[2+k:]}
	m := message{sent: time.Unix(0, nanos)}
	m.origin = r.string()
	m.pub.AppID = r.string()
	m.pub.Channel = r.string()
	m.pub.SocketID = r.string()
	m.pub.Event = r.string()
	m.pub.Data = r.string()
	m.pub.Frame = r.bytes()
	if r.err != nil || len(r.b) != 0 {
		return message{}, errMalformed
	}
	m.pub.Cacheable = flags&flagCacheable != 0
	m.pub.Terminate = flags&flagTerminate != 0
	return m, nil
}

// cached is a cache channel's last event as stored in Redis.
type cached struct {
	event, data string
	frame       []byte
}

func encodeCached(p hub.Publication) []byte {
	b := make([]byte, 0, 16+len(p.Event)+len(p.Data)+len(p.Frame))
	b = append(b, wireVersion)
	b = appendString(b, p.Event)
	b = appendString(b, p.Data)
	return appendBytes(b, p.Frame)
}

func decodeCached(b []byte) (cached, error) {
	if len(b) < 1 || b[0] != wireVersion {
		return cached{}, errMalformed
	}
	r := reader{b: b[1:]}
	c := cached{event: r.string(), data: r.string(), frame: r.bytes()}
	if r.err != nil || len(r.b) != 0 {
		return cached{}, errMalformed
	}
	return c, nil
}
