package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/switchboard-inbox/switchboard/hub"
)

// errNoApp is why the server refuses to start with no app off loopback: a
// public server with well-known credentials would let anyone publish.
var errNoApp = errors.New("no app configured: set " + EnvPrefix + "APP_ID, " + EnvPrefix + "APP_KEY and " +
	EnvPrefix + "APP_SECRET, or " + EnvPrefix + "APPS_FILE")

// DevelopmentApp is the app served when nothing is configured and the server listens
// on loopback only, so `go run .` works with pusher-js out of the box. Its
// credentials are public knowledge.
func DevelopmentApp() hub.App {
	return hub.App{ID: "app-id", Key: "app-key", Secret: "app-secret", Enabled: true, ClientEvents: true}
}

// resolveApps builds Apps from the static app settings and the apps file, or
// falls back to the development app on loopback.
func (c *Config) resolveApps() error {
	c.Apps, c.appSources, c.DevApp = nil, nil, false
	if err := c.staticAppComplete(); err != nil {
		return err
	}
	if c.AppID != "" {
		a := hub.App{
			ID: c.AppID, Key: c.AppKey, Secret: c.AppSecret,
			Enabled:        true,
			ClientEvents:   c.AppClientEvents,
			MaxConnections: c.AppMaxConnections,
		}
		for _, u := range c.AppWebhookURLs {
			a.Webhooks = append(a.Webhooks, hub.Webhook{URL: u})
		}
		c.Apps = append(c.Apps, a)
		c.appSources = append(c.appSources, sourceStaticApp)
	}
	if c.AppsFile != "" {
		apps, err := readAppsFile(c.AppsFile)
		if err != nil {
			return fmt.Errorf("%sAPPS_FILE: %w", EnvPrefix, err)
		}
		for i, a := range apps {
			c.Apps = append(c.Apps, a)
			c.appSources = append(c.appSources, fmt.Sprintf("%sAPPS_FILE: %s: app #%d", EnvPrefix, c.AppsFile, i+1))
		}
	}
	if len(c.Apps) > 0 {
		return nil
	}

	host, _, err := splitAddr(c.Addr)
	if err != nil {
		return fmt.Errorf("%sADDR: %w", EnvPrefix, err)
	}
	if !isLoopback(host) {
		return fmt.Errorf("%w (%sADDR %q is not a loopback address, so the development app is not served)", errNoApp, EnvPrefix, c.Addr)
	}
	c.Apps = []hub.App{DevelopmentApp()}
	c.appSources = []string{sourceDevApp}
	c.DevApp = true
	return nil
}

// staticAppComplete insists on all three static app credentials or none, and
// that the static app's other settings are not given without them.
func (c *Config) staticAppComplete() error {
	given := map[string]bool{"APP_ID": c.AppID != "", "APP_KEY": c.AppKey != "", "APP_SECRET": c.AppSecret != ""}
	if !given["APP_ID"] && !given["APP_KEY"] && !given["APP_SECRET"] {
		if c.AppClientEvents || len(c.AppWebhookURLs) > 0 || c.AppMaxConnections != 0 {
			return fmt.Errorf("%sAPP_ID, %sAPP_KEY and %sAPP_SECRET must be set for the static app's other %sAPP_* settings to apply",
				EnvPrefix, EnvPrefix, EnvPrefix, EnvPrefix)
		}
		return nil
	}
	var missing []string
	for _, name := range []string{"APP_ID", "APP_KEY", "APP_SECRET"} {
		if !given[name] {
			missing = append(missing, EnvPrefix+name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: must be set too: the static app needs %sAPP_ID, %sAPP_KEY and %sAPP_SECRET together",
			strings.Join(missing, ", "), EnvPrefix, EnvPrefix, EnvPrefix)
	}
	return nil
}

// fileApp is an app as written in the apps file. Its Enabled shadows the
// embedded App's so an omitted "enabled" can mean true: an app listed in the
// file is one the operator wants served.
type fileApp struct {
	hub.App
	Enabled *bool `json:"enabled"`
}

// readAppsFile reads a JSON array of apps. Unknown fields are errors so a
// misspelt limit does not silently fall back to its default.
func readAppsFile(path string) ([]hub.App, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 || trimmed[0] != '[' {
		return nil, fmt.Errorf("%s: want a JSON array of apps", path)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw []fileApp
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: %s", path, describeJSONError(data, err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: unexpected data after the array of apps", path)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%s: holds no apps", path)
	}
	apps := make([]hub.App, len(raw))
	for i, fa := range raw {
		apps[i] = fa.App
		apps[i].Enabled = fa.Enabled == nil || *fa.Enabled
	}
	return apps, nil
}

// describeJSONError adds the line and column to syntax and type errors,
// which encoding/json reports only as a byte offset.
func describeJSONError(data []byte, err error) string {
	var offset int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	if offset < 0 || offset > int64(len(data)) {
		return err.Error()
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

// splitAddr checks a listen address and returns its host and port.
func splitAddr(addr string) (host string, port int, err error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("want host:port, got %q", addr)
	}
	port, err = strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("want a port number from 0 to 65535, got %q", p)
	}
	return host, port, nil
}

// isLoopback reports whether host reaches this machine only. An empty host
// listens on every interface, and names other than localhost are not looked
// up: a name that resolves to loopback today may not tomorrow.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
