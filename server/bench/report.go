package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is a bench run's result, printed as a table or as JSON. Counts are
// exact; durations are milliseconds in JSON.
type Report struct {
	Target string `json:"target"`
	AppID  string `json:"app_id"`
	// Phase is "done" for a complete run, else the phase that was
	// interrupted.
	Phase       string         `json:"phase"`
	Interrupted bool           `json:"interrupted"`
	Connections ConnReport     `json:"connections"`
	Publish     PublishReport  `json:"publish"`
	Deliveries  DeliveryReport `json:"deliveries"`
	Latency     LatencyReport  `json:"latency"`
	// RSS is present only with --pid.
	RSS *RSSReport `json:"rss,omitempty"`
	// WebSockets breaks the run down by websocket URL; present only when
	// --ws-url lists more than one.
	WebSockets []WebSocketReport `json:"websockets,omitempty"`
	Errors     []ErrorCount      `json:"errors"`
}

// WebSocketReport is the share of one websocket URL: its connections,
// what they were owed and received, and their latency.
type WebSocketReport struct {
	URL         string        `json:"url"`
	Connections int64         `json:"connections"`
	Expected    int64         `json:"expected"`
	Delivered   int64         `json:"delivered"`
	Latency     LatencyReport `json:"latency"`
}

// ConnReport describes the connect phase.
type ConnReport struct {
	Requested int64 `json:"requested"`
	OK        int64 `json:"ok"`
	Failed    int64 `json:"failed"`
	// Dropped were subscribed, then closed or lost before the end.
	Dropped   int64   `json:"dropped"`
	Duration  Millis  `json:"connect_ms"`
	PerSecond float64 `json:"per_second"`
}

// PublishReport describes the publishing phase.
type PublishReport struct {
	Planned   int64 `json:"planned"`
	Attempted int64 `json:"attempted"`
	// Published is what the server accepted (2xx).
	Published    int64   `json:"published"`
	Errors       int64   `json:"errors"`
	Duration     Millis  `json:"duration_ms"`
	PerSecond    float64 `json:"per_second"`
	PayloadBytes int     `json:"payload_bytes"`
}

// DeliveryReport counts events received against events owed.
type DeliveryReport struct {
	// Expected is, over accepted publishes, the subscribers of the channel.
	Expected  int64 `json:"expected"`
	Delivered int64 `json:"delivered"`
	Missing   int64 `json:"missing"`
	// Duplicates arrived more than once on one connection.
	Duplicates int64 `json:"duplicates"`
	// Unexpected arrived for a publish the server did not accept.
	Unexpected int64 `json:"unexpected"`
	// PerSecond is deliveries from the first publish to the last delivery.
	PerSecond float64 `json:"per_second"`
}

// LatencyReport is end-to-end latency, from just before the publish request
// to the frame read by a subscriber. Percentiles are within 6.25% above.
type LatencyReport struct {
	Samples int64  `json:"samples"`
	P50     Millis `json:"p50_ms"`
	P90     Millis `json:"p90_ms"`
	P99     Millis `json:"p99_ms"`
	Max     Millis `json:"max_ms"`
	Mean    Millis `json:"mean_ms"`
}

// RSSReport is the server's resident memory at three points.
type RSSReport struct {
	PID         int   `json:"pid"`
	BeforeBytes int64 `json:"before_bytes"`
	IdleBytes   int64 `json:"idle_bytes"`
	EndBytes    int64 `json:"end_bytes"`
	// PerIdleConnectionBytes is (idle - before) / connections ok.
	PerIdleConnectionBytes int64 `json:"per_idle_connection_bytes"`
}

// ErrorCount is how often one kind of error happened, with the first
// message seen.
type ErrorCount struct {
	Kind    string `json:"kind"`
	Count   int64  `json:"count"`
	Example string `json:"example,omitempty"`
}

// Millis is a duration that encodes as fractional milliseconds in JSON.
type Millis time.Duration

// MarshalJSON implements json.Marshaler.
func (m Millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, math.Round(float64(m)/1e3)/1e3, 'f', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *Millis) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("millis: %w", err)
	}
	*m = Millis(f * 1e6)
	return nil
}

// String renders m rounded to three significant-ish digits.
func (m Millis) String() string {
	d := time.Duration(m)
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}

// report assembles the Report. Call only after every reader has exited:
// it reads the connections' delivery sets without locks.
func (b *bench) report(reached phase, interrupted bool) *Report {
	r := &Report{
		Target:      b.cfg.URL,
		AppID:       b.cfg.AppID,
		Phase:       reached.String(),
		Interrupted: interrupted,
		Errors:      b.errs.list(),
	}

	connectDur := b.connectEnd.Sub(b.connectStart)
	r.Connections = ConnReport{
		Requested: int64(b.cfg.Connections),
		OK:        b.connOK.Load(),
		Failed:    b.connFailed.Load(),
		Dropped:   b.dropped.Load(),
		Duration:  Millis(max(connectDur, 0)),
		PerSecond: perSecond(b.connOK.Load(), connectDur),
	}

	pubDur := b.pubEnd.Sub(b.pubStart)
	r.Publish = PublishReport{
		Planned:      int64(b.cfg.plannedPublishes()),
		Attempted:    b.pub.attempted.Load(),
		Published:    b.pub.accepted.Load(),
		Errors:       b.pub.failed.Load(),
		Duration:     Millis(max(pubDur, 0)),
		PerSecond:    perSecond(b.pub.accepted.Load(), pubDur),
		PayloadBytes: b.cfg.Payload,
	}

	accepted := make([]seqSet, b.cfg.Channels)
	acceptedN := make([]int64, b.cfg.Channels)
	for ch := range accepted {
		accepted[ch] = b.pub.acceptedSeqs(ch)
		acceptedN[ch] = accepted[ch].count()
	}
	var d DeliveryReport
	ws := make([]WebSocketReport, len(b.wsURLs))
	for _, c := range b.conns {
		hit, extra := c.seen.compare(accepted[c.channel])
		d.Expected += acceptedN[c.channel]
		d.Delivered += hit
		d.Unexpected += extra
		w := &ws[c.endpoint]
		w.Connections++
		w.Expected += acceptedN[c.channel]
		w.Delivered += hit
	}
	d.Missing = d.Expected - d.Delivered

	var snap histSnapshot
	var last int64
	for e := range b.stats {
		var own histSnapshot
		for i := range b.stats[e].shards {
			sh := &b.stats[e].shards[i]
			d.Duplicates += sh.duplicates.Load()
			sh.latency.addTo(&own)
			last = max(last, sh.lastNanos.Load())
		}
		ws[e].URL = b.wsURLs[e]
		ws[e].Latency = own.latencyReport()
		snap.add(&own)
	}
	if last > 0 && !b.pubStart.IsZero() {
		d.PerSecond = perSecond(int64(snap.n), time.Unix(0, last).Sub(b.pubStart))
	}
	r.Deliveries = d
	r.Latency = snap.latencyReport()
	if len(ws) > 1 {
		r.WebSockets = ws
	}

	if b.cfg.PID > 0 {
		rss := &RSSReport{PID: b.cfg.PID, BeforeBytes: b.rss.before, IdleBytes: b.rss.idle, EndBytes: b.rss.end}
		if ok := r.Connections.OK; ok > 0 && b.rss.idle > 0 {
			rss.PerIdleConnectionBytes = (b.rss.idle - b.rss.before) / ok
		}
		r.RSS = rss
	}
	return r
}

// latencyReport summarises s.
func (s *histSnapshot) latencyReport() LatencyReport {
	return LatencyReport{
		Samples: int64(s.n),
		P50:     Millis(s.quantile(0.50)),
		P90:     Millis(s.quantile(0.90)),
		P99:     Millis(s.quantile(0.99)),
		Max:     Millis(s.max),
		Mean:    Millis(s.mean()),
	}
}

// perSecond returns n per second over d, to one decimal; 0 for no time.
func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return math.Round(float64(n)/d.Seconds()*10) / 10
}

// verdict returns ErrIncomplete, saying why, when the server fell short.
func (r *Report) verdict() error {
	var why []string
	add := func(n int64, what string) {
		if n > 0 {
			why = append(why, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(r.Connections.Failed, "connections failed")
	add(r.Connections.Dropped, "connections dropped")
	add(r.Publish.Errors, "publishes failed")
	add(r.Deliveries.Missing, "deliveries missing")
	add(r.Deliveries.Duplicates, "deliveries duplicated")
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrIncomplete, strings.Join(why, ", "))
}

// write renders r to w as JSON or as a table.
func (r *Report) write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("encode report: %w", err)
		}
		return nil
	}
	return r.writeTable(w)
}

// writeTable renders r for a terminal.
func (r *Report) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(label, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(tw, "switchboard bench: %s (app %s)\n", r.Target, r.AppID)
	if r.Interrupted {
		fmt.Fprintf(tw, "INTERRUPTED during the %s phase: partial results\n", r.Phase)
	}
	c := r.Connections
	row("connections", "%d ok, %d failed, %d dropped (of %d)", c.OK, c.Failed, c.Dropped, c.Requested)
	row("connect", "%s, %.1f connections/s", c.Duration, c.PerSecond)
	p := r.Publish
	row("publish", "%d published, %d errors (%d attempted of %d planned)", p.Published, p.Errors, p.Attempted, p.Planned)
	row("publish rate", "%.1f/s over %s, %d-byte payload", p.PerSecond, p.Duration, p.PayloadBytes)
	d := r.Deliveries
	row("deliveries", "%d delivered of %d expected, %d missing, %d duplicate, %d unexpected",
		d.Delivered, d.Expected, d.Missing, d.Duplicates, d.Unexpected)
	row("throughput", "%.1f deliveries/s", d.PerSecond)
	l := r.Latency
	if l.Samples == 0 {
		row("latency", "no samples")
	} else {
		row("latency", "p50 %s  p90 %s  p99 %s  max %s  mean %s  (%d samples)", l.P50, l.P90, l.P99, l.Max, l.Mean, l.Samples)
	}
	if s := r.RSS; s != nil {
		row("server rss", "before %s  idle %s  end %s  (pid %d)", bytesIEC(s.BeforeBytes), bytesIEC(s.IdleBytes), bytesIEC(s.EndBytes), s.PID)
		if s.PerIdleConnectionBytes > 0 {
			row("rss/conn", "%s per idle connection", bytesIEC(s.PerIdleConnectionBytes))
		} else {
			// A warm server reuses memory freed by an earlier run.
			row("rss/conn", "n/a: RSS did not grow while connecting (measure a freshly started server)")
		}
	}
	for i, w := range r.WebSockets {
		lat := "no samples"
		if w.Latency.Samples > 0 {
			lat = fmt.Sprintf("p50 %s  p99 %s  max %s", w.Latency.P50, w.Latency.P99, w.Latency.Max)
		}
		row(fmt.Sprintf("websocket %d", i+1), "%s: %d connections, %d of %d delivered, %s",
			w.URL, w.Connections, w.Delivered, w.Expected, lat)
	}
	if len(r.Errors) == 0 {
		row("errors", "none")
	}
	for i, e := range r.Errors {
		label := ""
		if i == 0 {
			label = "errors"
		}
		if e.Example != "" {
			row(label, "%d × %s (e.g. %s)", e.Count, e.Kind, e.Example)
		} else {
			row(label, "%d × %s", e.Count, e.Kind)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// bytesIEC renders n bytes with a binary unit.
func bytesIEC(n int64) string {
	const unit = 1024
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	if n < unit {
		return fmt.Sprintf("%s%d B", sign, n)
	}
	v, suffix := float64(n), "B"
	for _, s := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%s%.1f %s", sign, v, suffix)
}
