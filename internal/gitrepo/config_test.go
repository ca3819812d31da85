package gitrepo

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	in := "# comment\n" +
		"[core]\n\trepositoryformatversion = 1\n\tbare = false ; trailing comment\n" +
		"[Extensions]\n\tWorktreeConfig = true\n\tpartialClone\n" +
		"[remote \"origin\"]\n\turl = https://example.com/a.git\n\turl = https://mirror.example.com/a.git\n" +
		"\tfetch = +refs/heads/*:refs/remotes/origin/*\n" +
		"[remote \"Weird \\\"name\\\"\"]\n\turl = \"quoted # not a comment\"  \n" +
		"[branch.Main]\n\tremote = origin\n" +
		"[alias]\n\tlg = log \\\n  --oneline\n\tesc = \"a\\tb\\\\c\"\n"
	c := gitConfig{}
	if err := parseConfig(in, c); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string][]string{
		"core.repositoryformatversion": {"1"},
		"core.bare":                    {"false"},
		"extensions.worktreeconfig":    {"true"},
		"extensions.partialclone":      {"true"},
		"remote.origin.url":            {"https://example.com/a.git", "https://mirror.example.com/a.git"},
		`remote.Weird "name".url`:      {"quoted # not a comment"},
		"branch.main.remote":           {"origin"},
		"alias.lg":                     {"log   --oneline"},
		"alias.esc":                    {"a\tb\\c"},
	} {
		if !reflect.DeepEqual(c[key], want) {
			t.Errorf("%s = %q, want %q", key, c[key], want)
		}
	}
	if c.first("remote.origin.url") != "https://example.com/a.git" || c.get("remote.origin.url") != "https://mirror.example.com/a.git" {
		t.Error("first/get")
	}
	for _, bad := range []string{"[core\nx = 1", "key = 1", "[s]\nk = \"open", "[s]\nk = a\\q", "[s]\n= v"} {
		if err := parseConfig(bad, gitConfig{}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestConfigMatchesGit: what git config --list reads from a config file
// git wrote, this reader reads too.
func TestConfigMatchesGit(t *testing.T) {
	needGit(t)
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "config")
	for _, kv := range [][2]string{
		{"remote.origin.url", "https://user@example.com/a b.git"},
		{"extensions.worktreeConfig", "true"},
		{"user.name", `Quote " and \ backslash ; semicolon # hash`},
		{"sect.with space.key", "  leading and trailing  "},
		{"x.y", "tab\there"},
	} {
		runGit(t, dir, "config", "-f", file, kv[0], kv[1])
	}
	c := gitConfig{}
	if err := readConfig(file, c); err != nil {
		t.Fatal(err)
	}
	list := runGit(t, dir, "config", "-f", file, "--list", "-z")
	for _, entry := range strings.Split(strings.TrimSuffix(list, "\x00"), "\x00") {
		key, val, _ := strings.Cut(entry, "\n")
		if got := c.get(key); got != val {
			t.Errorf("%s = %q, git says %q", key, got, val)
		}
	}
	if err := os.WriteFile(file, []byte(strings.Repeat("#", maxConfigSize+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := readConfig(file, gitConfig{}); err == nil {
		t.Error("an oversized config was read")
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = \"x\\ty\" ; c\n")
	f.Add("[a.b]\nc\n")
	f.Fuzz(func(t *testing.T, s string) {
		parseConfig(s, gitConfig{})
	})
}
