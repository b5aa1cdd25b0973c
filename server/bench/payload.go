package bench

import (
	"bytes"
	"math"
	"math/bits"
	"strconv"
)

// payloadMarker starts every bench event's data. The data is plain text
// built only from characters JSON never escapes, so it appears verbatim in
// the frame however the server encodes the event, and a receiver can find
// and parse it without decoding JSON or allocating. The colon cannot occur
// in a channel name, so the marker cannot be confused with one.
//
// Format: "sbbench:{run}:{channel}:{seq}:{unix nanos}:" padded with 'x' to
// the configured size. The run id keeps two bench runs that share channels
// from counting each other's events.
const payloadMarker = "sbbench:"

var payloadMarkerBytes = []byte(payloadMarker)

// payloadHeader is one bench event's identity and send time.
type payloadHeader struct {
	run     uint32
	channel int
	seq     int
	ts      int64
}

// appendPayload appends the data of event h, padded to size bytes.
func appendPayload(dst []byte, h payloadHeader, size int) []byte {
	start := len(dst)
	dst = append(dst, payloadMarker...)
	dst = strconv.AppendUint(dst, uint64(h.run), 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, int64(h.channel), 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, int64(h.seq), 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, h.ts, 10)
	dst = append(dst, ':')
	for len(dst)-start < size {
		dst = append(dst, 'x')
	}
	return dst
}

// findPayload returns what follows the marker in a frame, or nil when the
// frame carries no bench event.
func findPayload(frame []byte) []byte {
	i := bytes.Index(frame, payloadMarkerBytes)
	if i < 0 {
		return nil
	}
	return frame[i+len(payloadMarker):]
}

// parsePayload reads an event's header from p, the bytes after the marker.
func parsePayload(p []byte) (payloadHeader, bool) {
	var f [4]uint64
	for i := range f {
		var ok bool
		if f[i], p, ok = parseField(p); !ok {
			return payloadHeader{}, false
		}
	}
	if f[0] > math.MaxUint32 || f[1] > maxConnections || f[2] > maxPublishes || f[3] > math.MaxInt64 {
		return payloadHeader{}, false
	}
	return payloadHeader{run: uint32(f[0]), channel: int(f[1]), seq: int(f[2]), ts: int64(f[3])}, true
}

// parseField parses decimal digits up to a ':' and returns the rest after it.
func parseField(p []byte) (uint64, []byte, bool) {
	var v uint64
	for i, b := range p {
		switch {
		case b >= '0' && b <= '9' && i < 19:
			v = v*10 + uint64(b-'0')
		case b == ':' && i > 0:
			return v, p[i+1:], true
		default:
			return 0, nil, false
		}
	}
	return 0, nil, false
}

// seqSet is a growable bitset of sequence numbers. Sequences are dense per
// channel, so a connection's set costs one bit per event on its channel.
type seqSet []uint64

// add inserts seq and reports whether it was new.
func (s *seqSet) add(seq int) bool {
	w := seq / 64
	if w >= len(*s) {
		grown := make(seqSet, max(w+1, 2*len(*s)))
		copy(grown, *s)
		*s = grown
	}
	bit := uint64(1) << (seq % 64)
	if (*s)[w]&bit != 0 {
		return false
	}
	(*s)[w] |= bit
	return true
}

// count returns the number of members.
func (s seqSet) count() int64 {
	var n int
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return int64(n)
}

// compare returns how many members of want are in s (hit) and how many
// members of s are not in want (extra).
func (s seqSet) compare(want seqSet) (hit, extra int64) {
	for i, w := range s {
		var o uint64
		if i < len(want) {
			o = want[i]
		}
		hit += int64(bits.OnesCount64(w & o))
		extra += int64(bits.OnesCount64(w &^ o))
	}
	return hit, extra
}
