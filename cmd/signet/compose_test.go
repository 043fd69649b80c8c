package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestComposeKeepsItsKeys reads docker-compose.yml for what makes `docker
// compose down` then `up` come back with the same signing keys and a
// working cluster: the key-encryption secret comes from a file on the host
// (not an environment variable that a later shell may not set), the
// database lives in a named volume, every server has a health check on
// /ready, and only one service builds the image.
func TestComposeKeepsItsKeys(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]struct {
			Build       any               `yaml:"build"`
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Secrets     []string          `yaml:"secrets"`
			Volumes     []string          `yaml:"volumes"`
			Healthcheck *struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
		Secrets map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	builds := 0
	for _, name := range []string{"signet-a", "signet-b"} {
		s, ok := f.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		if s.Build != nil {
			builds++
		}
		if s.Image != "signet:local" {
			t.Errorf("%s runs image %q, want the one signet:local image", name, s.Image)
		}
		if _, set := s.Environment["SIGNET_SECRET"]; set {
			t.Errorf("%s takes SIGNET_SECRET from the environment, which a later `up` may not have", name)
		}
		if s.Environment["SIGNET_SECRET_FILE"] != "/run/secrets/signet_secret" || !slices.Contains(s.Secrets, "signet_secret") {
			t.Errorf("%s does not read the secret from the signet_secret file: %v %v", name, s.Environment, s.Secrets)
		}
		if s.Healthcheck == nil || !slices.Contains(s.Healthcheck.Test, "healthcheck") {
			t.Errorf("%s has no health check on /ready", name)
		}
	}
	if builds != 1 {
		t.Errorf("%d services build the image, want 1", builds)
	}
	if file := f.Secrets["signet_secret"].File; !strings.HasPrefix(file, "./") {
		t.Errorf("the secret comes from %q, want a file beside the compose file", file)
	}
	pg := f.Services["postgres"]
	if _, ok := f.Volumes["pgdata"]; !ok || !slices.ContainsFunc(pg.Volumes, func(v string) bool { return strings.HasPrefix(v, "pgdata:") }) {
		t.Errorf("PostgreSQL's data is not in the named volume pgdata: %v", pg.Volumes)
	}
}
