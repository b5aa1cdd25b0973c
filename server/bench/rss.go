package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// readRSS returns the resident set size in bytes of process pid, from the
// VmRSS line of {procDir}/{pid}/status (Linux; the server must run on the
// same host).
func readRSS(procDir string, pid int) (int64, error) {
	path := filepath.Join(procDir, strconv.Itoa(pid), "status")
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read rss: %w", err)
	}
	rss, err := parseVmRSS(b)
	if err != nil {
		return 0, fmt.Errorf("read rss from %s: %w", path, err)
	}
	return rss, nil
}

// parseVmRSS finds "VmRSS:   12345 kB" in a /proc status file.
func parseVmRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("malformed VmRSS line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed VmRSS line %q: %w", sc.Text(), err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("scan status: %w", err)
	}
	return 0, fmt.Errorf("no VmRSS line (a kernel thread or zombie?)")
}
