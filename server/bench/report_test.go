package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// sampleReport is a fixed report for rendering tests.
func sampleReport() *Report {
	return &Report{
		Target: "http://127.0.0.1:8080",
		AppID:  "app-id",
		Phase:  "done",
		Connections: ConnReport{
			Requested: 2000, OK: 1998, Failed: 2, Dropped: 0,
			Duration: Millis(2*time.Second + 3*time.Millisecond), PerSecond: 996.0,
		},
		Publish: PublishReport{
			Planned: 1000, Attempted: 1000, Published: 999, Errors: 1,
			Duration: Millis(10 * time.Second), PerSecond: 99.9, PayloadBytes: 100,
		},
		Deliveries: DeliveryReport{
			Expected: 199800, Delivered: 199790, Missing: 10, Duplicates: 0, Unexpected: 0, PerSecond: 19979.1,
		},
		Latency: LatencyReport{
			Samples: 199790,
			P50:     Millis(1234 * time.Microsecond),
			P90:     Millis(3500 * time.Microsecond),
			P99:     Millis(12 * time.Millisecond),
			Max:     Millis(40 * time.Millisecond),
			Mean:    Millis(1500 * time.Microsecond),
		},
		RSS: &RSSReport{PID: 4242, BeforeBytes: 10 << 20, IdleBytes: 60 << 20, EndBytes: 70 << 20, PerIdleConnectionBytes: 26241},
		Errors: []ErrorCount{
			{Kind: "connect: timeout", Count: 2, Example: "context deadline exceeded"},
			{Kind: "publish: HTTP 500", Count: 1},
		},
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().write(&buf, false); err != nil {
		t.Fatal(err)
	}
	want := `switchboard bench: http://127.0.0.1:8080 (app app-id)
connections   1998 ok, 2 failed, 0 dropped (of 2000)
connect       2s, 996.0 connections/s
publish       999 published, 1 errors (1000 attempted of 1000 planned)
publish rate  99.9/s over 10s, 100-byte payload
deliveries    199790 delivered of 199800 expected, 10 missing, 0 duplicate, 0 unexpected
throughput    19979.1 deliveries/s
latency       p50 1.23ms  p90 3.5ms  p99 12ms  max 40ms  mean 1.5ms  (199790 samples)
server rss    before 10.0 MiB  idle 60.0 MiB  end 70.0 MiB  (pid 4242)
rss/conn      25.6 KiB per idle connection
errors        2 × connect: timeout (e.g. context deadline exceeded)
              1 × publish: HTTP 500
`
	if buf.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestWriteTableVariants(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(r *Report)
		want    []string
		notWant []string
	}{
		{
			name: "interrupted, no pid, no errors, no samples",
			edit: func(r *Report) {
				r.Interrupted, r.Phase, r.RSS, r.Errors, r.Latency = true, "publish", nil, nil, LatencyReport{}
			},
			want:    []string{"INTERRUPTED during the publish phase", "latency       no samples", "errors        none"},
			notWant: []string{"server rss"},
		},
		{
			name: "several websocket URLs",
			edit: func(r *Report) {
				r.WebSockets = []WebSocketReport{
					{URL: "ws://127.0.0.1:8081/app/k", Connections: 999, Expected: 99900, Delivered: 99900,
						Latency: LatencyReport{Samples: 99900, P50: Millis(time.Millisecond), P99: Millis(9 * time.Millisecond), Max: Millis(20 * time.Millisecond)}},
					{URL: "ws://127.0.0.1:8082/app/k", Connections: 999, Expected: 99900, Delivered: 99890},
				}
			},
			want: []string{
				"websocket 1   ws://127.0.0.1:8081/app/k: 999 connections, 99900 of 99900 delivered, p50 1ms  p99 9ms  max 20ms\n",
				"websocket 2   ws://127.0.0.1:8082/app/k: 999 connections, 99890 of 99900 delivered, no samples\n",
			},
		},
		{
			name:    "one websocket URL has no breakdown",
			edit:    func(r *Report) {},
			notWant: []string{"websocket"},
		},
		{
			name:    "a warm server's RSS shrank",
			edit:    func(r *Report) { r.RSS.IdleBytes, r.RSS.PerIdleConnectionBytes = 9<<20, -524 },
			want:    []string{"rss/conn      n/a: RSS did not grow"},
			notWant: []string{"-524"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sampleReport()
			tt.edit(r)
			var buf bytes.Buffer
			if err := r.write(&buf, false); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("table lacks %q:\n%s", w, buf.String())
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(buf.String(), w) {
					t.Errorf("table has %q:\n%s", w, buf.String())
				}
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().write(&buf, true); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, buf.String())
	}
	// Scripts read these paths; renaming one breaks them.
	paths := map[string]any{
		"target":                        "http://127.0.0.1:8080",
		"phase":                         "done",
		"interrupted":                   false,
		"connections.ok":                1998.0,
		"connections.connect_ms":        2003.0,
		"publish.published":             999.0,
		"publish.errors":                1.0,
		"deliveries.expected":           199800.0,
		"deliveries.delivered":          199790.0,
		"deliveries.missing":            10.0,
		"deliveries.duplicates":         0.0,
		"latency.p50_ms":                1.234,
		"latency.p99_ms":                12.0,
		"latency.max_ms":                40.0,
		"rss.per_idle_connection_bytes": 26241.0,
		"rss.idle_bytes":                float64(60 << 20),
	}
	for path, want := range paths {
		var v any = raw
		for _, k := range strings.Split(path, ".") {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		if v != want {
			t.Errorf("%s = %v (%T), want %v", path, v, v, want)
		}
	}
	errs, _ := raw["errors"].([]any)
	if len(errs) != 2 {
		t.Errorf("errors = %v, want 2 entries", raw["errors"])
	}

	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Latency.P50 != sampleReport().Latency.P50 {
		t.Errorf("p50 round trip = %v, want %v", back.Latency.P50, sampleReport().Latency.P50)
	}

	r := sampleReport()
	r.RSS, r.Errors = nil, []ErrorCount{}
	buf.Reset()
	if err := r.write(&buf, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `"rss"`) || !strings.Contains(buf.String(), `"errors": []`) {
		t.Errorf("without pid and errors: want no rss and an empty errors list:\n%s", buf.String())
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *Report)
		want string // empty: complete
	}{
		{"complete", func(r *Report) {}, ""},
		{"failed connections", func(r *Report) { r.Connections.Failed = 2 }, "2 connections failed"},
		{"dropped connections", func(r *Report) { r.Connections.Dropped = 1 }, "1 connections dropped"},
		{"publish errors", func(r *Report) { r.Publish.Errors = 3 }, "3 publishes failed"},
		{"missing", func(r *Report) { r.Deliveries.Missing = 4 }, "4 deliveries missing"},
		{"duplicates", func(r *Report) { r.Deliveries.Duplicates = 5 }, "5 deliveries duplicated"},
		{"several", func(r *Report) { r.Connections.Failed, r.Deliveries.Missing = 1, 2 }, "1 connections failed, 2 deliveries missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{}
			tt.edit(r)
			err := r.verdict()
			if tt.want == "" {
				if err != nil {
					t.Errorf("verdict = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrIncomplete) || !strings.HasSuffix(err.Error(), ": "+tt.want) {
				t.Errorf("verdict = %v, want ErrIncomplete: %s", err, tt.want)
			}
		})
	}
}

func TestBytesIEC(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{26241, "25.6 KiB"},
		{3 << 30, "3.0 GiB"},
		{-2048, "-2.0 KiB"},
	}
	for _, tt := range tests {
		if got := bytesIEC(tt.n); got != tt.want {
			t.Errorf("bytesIEC(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestMillisString(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{1234 * time.Nanosecond, "1µs"},
		{1234567 * time.Nanosecond, "1.23ms"},
		{12345678 * time.Nanosecond, "12.3ms"},
		{1234567890 * time.Nanosecond, "1.23s"},
		{12345678901 * time.Nanosecond, "12.3s"},
	}
	for _, tt := range tests {
		if got := Millis(tt.d).String(); got != tt.want {
			t.Errorf("Millis(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
