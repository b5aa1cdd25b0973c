package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    int64
		wantErr string
	}{
		{"typical", "Name:\tswitchboard\nVmPeak:\t  900000 kB\nVmRSS:\t   12345 kB\nThreads:\t9\n", 12345 * 1024, ""},
		{"no rss line", "Name:\tkthreadd\nState:\tS (sleeping)\n", 0, "no VmRSS line"},
		{"bad unit", "VmRSS:\t 12 MB\n", 0, "malformed"},
		{"bad number", "VmRSS:\t twelve kB\n", 0, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVmRSS([]byte(tt.status))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseVmRSS = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestReadRSS(t *testing.T) {
	proc := t.TempDir()
	if err := os.MkdirAll(filepath.Join(proc, "77"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proc, "77", "status"), []byte("VmRSS:\t2048 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := readRSS(proc, 77); err != nil || got != 2<<20 {
		t.Errorf("readRSS = %d, %v; want %d", got, err, 2<<20)
	}
	if _, err := readRSS(proc, 78); err == nil {
		t.Error("readRSS of a missing process succeeded")
	}
	// The test binary itself is a real process with a real VmRSS.
	if got, err := readRSS("/proc", os.Getpid()); err != nil || got <= 0 {
		t.Errorf("readRSS(self) = %d, %v", got, err)
	}
}

func TestRunRejectsUnreadablePID(t *testing.T) {
	// Linux never hands out a pid above PID_MAX_LIMIT (2^22).
	var stdout, stderr strings.Builder
	err := Run(t.Context(), []string{"--pid", "4194305", "--quiet"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--pid") {
		t.Errorf("Run with a missing pid = %v, want an error naming --pid", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("a run that never started printed a report:\n%s", stdout.String())
	}
}
