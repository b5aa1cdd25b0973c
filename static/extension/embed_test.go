package extension_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"regexp"
	"testing"

	"github.com/switchboard-inbox/switchboard/static/extension"
)

// TestPusherClientIsTheWebUIs fails when the extension's copy of the
// Pusher client drifts from the web UI's (static/js/pusher.js): an
// extension can only load its own files, so it keeps a copy, and a fix to
// one must reach the other. Copy static/js/pusher.js over it.
func TestPusherClientIsTheWebUIs(t *testing.T) {
	web, err := os.ReadFile("../js/pusher.js")
	if err != nil {
		t.Fatal(err)
	}
	ext, err := fs.ReadFile(extension.FS, "pusher.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(web, ext) {
		t.Fatal("static/extension/pusher.js differs from static/js/pusher.js: copy static/js/pusher.js to static/extension/pusher.js")
	}
}

// TestManifestNamesOnlyEmbeddedFiles checks that every file the manifest,
// the pages and the modules refer to is in the extension (and so in the
// zip the server hands out).
func TestManifestNamesOnlyEmbeddedFiles(t *testing.T) {
	raw, err := fs.ReadFile(extension.FS, "manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		ManifestVersion int               `json:"manifest_version"`
		Version         string            `json:"version"`
		Icons           map[string]string `json:"icons"`
		Action          struct {
			DefaultPopup string            `json:"default_popup"`
			DefaultIcon  map[string]string `json:"default_icon"`
		} `json:"action"`
		Background struct {
			ServiceWorker string `json:"service_worker"`
			Type          string `json:"type"`
		} `json:"background"`
		OptionsUI struct {
			Page string `json:"page"`
		} `json:"options_ui"`
		Permissions []string `json:"permissions"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if m.ManifestVersion != 3 || m.Background.Type != "module" {
		t.Errorf("manifest_version %d, background type %q: want 3 and module", m.ManifestVersion, m.Background.Type)
	}
	named := []string{m.Action.DefaultPopup, m.Background.ServiceWorker, m.OptionsUI.Page, "content.js"}
	for _, p := range m.Icons {
		named = append(named, p)
	}
	for _, p := range m.Action.DefaultIcon {
		named = append(named, p)
	}
	// Pages' scripts and stylesheets, and modules' imports.
	ref := regexp.MustCompile(`(?:src|href)="([a-z0-9/_.-]+\.(?:js|css|png))"|from '\./([a-z0-9_.-]+\.js)'`)
	err = fs.WalkDir(extension.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ok, _ := regexp.MatchString(`\.(html|js)$`, name); !ok {
			return nil
		}
		b, err := fs.ReadFile(extension.FS, name)
		if err != nil {
			return err
		}
		for _, sub := range ref.FindAllStringSubmatch(string(b), -1) {
			named = append(named, sub[1]+sub[2])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range named {
		if name == "" {
			t.Error("the manifest leaves a file unnamed")
			continue
		}
		if _, err := fs.Stat(extension.FS, name); err != nil {
			t.Errorf("%s is referred to but not in the extension: %v", name, err)
		}
	}
}
