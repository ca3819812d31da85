package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// topLevel returns the top-level "key: value" pairs of a simple YAML
// document (nested lines are skipped; a key with only nested lines maps to
// "").
func topLevel(t *testing.T, text string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, " ") || strings.HasPrefix(line, "-") || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("not a key: %q", line)
		}
		m[k] = strings.TrimSpace(v)
	}
	return m
}

// pipe.yml has Bitbucket's pipe metadata with an image pinned to a version,
// and the README's pipe examples use that very image.
func TestPipeMetadata(t *testing.T) {
	raw, err := os.ReadFile("pipe.yml")
	if err != nil {
		t.Fatal(err)
	}
	meta := topLevel(t, string(raw))
	for _, k := range []string{"name", "image", "description", "category", "repository", "maintainer", "tags"} {
		if _, ok := meta[k]; !ok {
			t.Errorf("pipe.yml has no %s", k)
		}
	}
	image := meta["image"]
	if !regexp.MustCompile(`^[a-z0-9./-]+:\d+\.\d+\.\d+$`).MatchString(image) {
		t.Fatalf("pipe.yml image %q is not pinned to a version", image)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	uses := regexp.MustCompile(`pipe: (\S+)`).FindAllStringSubmatch(string(readme), -1)
	if len(uses) == 0 {
		t.Fatal("README has no pipe example")
	}
	for _, u := range uses {
		if u[1] != "docker://"+image {
			t.Errorf("README uses pipe %s; pipe.yml says %s", u[1], image)
		}
	}
	for _, section := range []string{"## Bitbucket Pipelines", "### YAML Definition", "### Variables", "### Prerequisites", "### Examples", "DEBUG"} {
		if !strings.Contains(string(readme), section) {
			t.Errorf("README lacks %q", section)
		}
	}
}

// docs.md is a Woodpecker/Drone plugin page: front matter, then settings and
// examples that use the plugin's image.
func TestPluginDocs(t *testing.T) {
	raw, err := os.ReadFile("docs.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	front, body, ok := strings.Cut(strings.TrimPrefix(text, "---\n"), "\n---\n")
	if !strings.HasPrefix(text, "---\n") || !ok {
		t.Fatal("docs.md has no front matter")
	}
	meta := topLevel(t, front)
	for _, k := range []string{"name", "description", "author", "tags", "containerImage", "url"} {
		if meta[k] == "" {
			t.Errorf("docs.md front matter has no %s", k)
		}
	}
	for _, want := range []string{"## Settings", "### Drone", "### Woodpecker", "image: " + meta["containerImage"] + ":"} {
		if !strings.Contains(body, want) {
			t.Errorf("docs.md lacks %q", want)
		}
	}
}
