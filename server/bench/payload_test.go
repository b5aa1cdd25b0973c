package bench

import (
	"encoding/json"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	tests := []struct {
		name          string
		h             payloadHeader
		size, wantLen int
	}{
		{"padded to size", payloadHeader{run: 7, channel: 3, seq: 17, ts: 1_712_345_678_901_234_567}, 100, 100},
		{"smaller than the header keeps the header", payloadHeader{ts: 1}, 0, len("sbbench:0:0:0:1:")},
		{"large", payloadHeader{run: 4294967295, channel: 99, seq: 123456, ts: 1_712_345_678_901_234_567}, 10240, 10240},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := appendPayload(nil, tt.h, tt.size)
			if len(data) != tt.wantLen {
				t.Errorf("len = %d, want %d", len(data), tt.wantLen)
			}
			// Servers send data as a JSON string inside the event; the
			// payload must survive that encoding verbatim.
			frame, err := json.Marshal(map[string]string{"event": "bench", "channel": "bench-3", "data": string(data)})
			if err != nil {
				t.Fatal(err)
			}
			p := findPayload(frame)
			if p == nil {
				t.Fatalf("no payload found in %s", frame)
			}
			got, ok := parsePayload(p)
			if !ok || got != tt.h {
				t.Errorf("parsed %+v, %v; want %+v, true", got, ok, tt.h)
			}
		})
	}
}

func TestParsePayloadRejects(t *testing.T) {
	tests := []struct{ name, p string }{
		{"empty", ""},
		{"missing fields", "1:2:3:"},
		{"empty field", "1:2::4:"},
		{"letters", "1:2:a:4:"},
		{"no trailing colon", "1:2:3:4"},
		{"overflowing number", "1:2:3:99999999999999999999999:"},
		{"run id out of range", "4294967296:2:3:4:"},
		{"sequence out of range", "1:2:999999999999:4:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if h, ok := parsePayload([]byte(tt.p)); ok {
				t.Errorf("parsePayload(%q) accepted: %+v", tt.p, h)
			}
		})
	}
	if findPayload([]byte(`{"event":"pusher:ping","data":{}}`)) != nil {
		t.Error("found a payload in a ping")
	}
}

func TestSeqSet(t *testing.T) {
	var s seqSet
	for _, seq := range []int{0, 1, 63, 64, 200, 5} {
		if !s.add(seq) {
			t.Errorf("add(%d) reported a duplicate", seq)
		}
	}
	if s.add(64) {
		t.Error("add(64) twice reported new")
	}
	if s.count() != 6 {
		t.Errorf("count = %d, want 6", s.count())
	}
	var want seqSet
	for _, seq := range []int{0, 1, 2, 64, 300} {
		want.add(seq)
	}
	hit, extra := s.compare(want)
	if hit != 3 || extra != 3 { // hits 0, 1, 64; extra 5, 63, 200
		t.Errorf("compare = %d hit, %d extra; want 3 and 3", hit, extra)
	}
	var empty seqSet
	if hit, extra := empty.compare(want); hit != 0 || extra != 0 {
		t.Errorf("empty compare = %d, %d; want 0, 0", hit, extra)
	}
}
