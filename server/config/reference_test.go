package config

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite REFERENCE.md from Reference()")

// TestReferenceFileIsCurrent keeps REFERENCE.md, which the README quotes, in
// step with the settings table. Run `go test ./server/config -update` after
// changing a setting.
func TestReferenceFileIsCurrent(t *testing.T) {
	const path = "REFERENCE.md"
	want := referenceFile()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is stale; run go test ./server/config -update", path)
	}
}

// referenceFile is REFERENCE.md: a short preamble and the table.
func referenceFile() string {
	return "# Configuration reference\n\n" +
		"Every setting is an environment variable and a flag of `switchboard serve`.\n" +
		"A flag wins over its variable, and a variable over the default; an empty\n" +
		"variable counts as unset. Durations need a unit (`30s`, `250ms`, `2m`).\n" +
		"`switchboard serve -h` prints the same list.\n\n" +
		Reference() + "\n" +
		"With no app configured and a loopback `SWITCHBOARD_ADDR`, a development app\n" +
		"(id `app-id`, key `app-key`, secret `app-secret`, client events on) is served\n" +
		"and a warning logged. On any other address the server refuses to start until\n" +
		"`SWITCHBOARD_APP_ID`/`KEY`/`SECRET` or `SWITCHBOARD_APPS_FILE` is set.\n\n" +
		"`SWITCHBOARD_APPS_FILE` holds a JSON array of apps:\n\n" +
		"```json\n" +
		"[\n" +
		"  {\"id\": \"shop\", \"key\": \"shop-key\", \"secret\": \"a-long-secret\", \"client_events\": true,\n" +
		"   \"webhooks\": [{\"url\": \"https://shop.example/pusher\", \"event_types\": [\"channel_occupied\"]}]},\n" +
		"  {\"id\": \"old\", \"key\": \"old-key\", \"secret\": \"another-secret\", \"enabled\": false}\n" +
		"]\n" +
		"```\n\n" +
		"Fields: `id`, `key`, `secret` (required; at least 8 characters), `enabled`\n" +
		"(default true), `client_events`, `max_connections`, `max_presence_members`,\n" +
		"`max_user_info_bytes`, `max_event_bytes`, `client_event_rate` (0 means the\n" +
		"default), `webhooks` (`url`, optional `event_types`). Unknown fields are an error.\n"
}

func TestUsageListsEverySetting(t *testing.T) {
	usage := Usage()
	for _, s := range settings {
		for _, want := range []string{"--" + s.flag() + " ", s.env(), s.help} {
			if !strings.Contains(usage, want) {
				t.Errorf("Usage lacks %q", want)
			}
		}
	}
}

func TestSettingsAreUnique(t *testing.T) {
	seen := make(map[string]bool)
	for _, s := range settings {
		if seen[s.name] {
			t.Errorf("setting %s listed twice", s.name)
		}
		seen[s.name] = true
		if s.set == nil || s.help == "" || s.kind == "" {
			t.Errorf("setting %s lacks a parser, help or kind", s.name)
		}
	}
}

// TestReadmeReferenceIsCurrent keeps the configuration table in README.md,
// between its two marker comments, equal to Reference().
func TestReadmeReferenceIsCurrent(t *testing.T) {
	const path = "../../README.md"
	const begin = "<!-- config reference: generated from server/config; `go test ./server/config` checks it -->\n"
	const end = "<!-- end config reference -->"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the config reference markers")
	}
	want := readme[:i+len(begin)] + Reference() + readme[j:]
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if readme != want {
		t.Errorf("README.md's configuration table is stale; run go test ./server/config -update")
	}
}
