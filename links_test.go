package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// The user and contributor docs: the README, CONTRIBUTING.md, the
// Drone/Woodpecker plugin page and the topic pages under docs/. The link
// check, actionlint's examples and the release's version pins all read this
// one list, so a new page under docs/ is covered without naming it.
func markdownDocs(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(pages)
	return append([]string{"README.md", "CONTRIBUTING.md", "docs.md"}, pages...)
}

var (
	// [text](target) and ![alt](target), with an optional "title".
	mdLink = regexp.MustCompile(`\]\(([^()\s]+)(?:\s+"[^"]*")?\)`)
	// `code`, whose brackets are not links.
	mdCode    = regexp.MustCompile("`[^`]*`")
	mdHeading = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	urlScheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// mdLines are a markdown file's lines outside fenced code blocks, with their
// numbers (from 1).
func mdLines(text string) (lines []string, numbers []int) {
	fence := ""
	for i, l := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			fence = trimmed[:3]
		case fence != "" && strings.HasPrefix(trimmed, fence):
			fence = ""
		case fence == "":
			lines = append(lines, l)
			numbers = append(numbers, i+1)
		}
	}
	return lines, numbers
}

// anchors are the ids GitHub gives a file's headings: lower case, letters,
// digits, _ and - kept, spaces as -, everything else dropped; a repeated id
// gets -1, -2, ...
func anchors(text string) map[string]bool {
	ids := map[string]bool{}
	seen := map[string]int{}
	lines, _ := mdLines(text)
	for _, l := range lines {
		m := mdHeading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case unicode.IsLetter(r), unicode.IsDigit(r), r == '_', r == '-':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		id := b.String()
		if n := seen[id]; n > 0 {
			seen[id]++
			id = fmt.Sprintf("%s-%d", id, n)
		} else {
			seen[id] = 1
		}
		ids[id] = true
	}
	return ids
}

// brokenLinks lists every relative link of files (paths relative to root)
// that names no file or directory, or a #fragment that is no heading of the
// markdown file it points at. Links with a scheme (https:, mailto:) are not
// followed.
func brokenLinks(root string, files []string) ([]string, error) {
	texts := map[string]string{}
	read := func(path string) (string, error) {
		if t, ok := texts[path]; ok {
			return t, nil
		}
		data, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			return "", err
		}
		texts[path] = string(data)
		return texts[path], nil
	}
	var broken []string
	for _, file := range files {
		text, err := read(file)
		if err != nil {
			return nil, err
		}
		lines, numbers := mdLines(text)
		for i, l := range lines {
			for _, m := range mdLink.FindAllStringSubmatch(mdCode.ReplaceAllString(l, ""), -1) {
				target := m[1]
				if urlScheme.MatchString(target) {
					continue
				}
				where := fmt.Sprintf("%s:%d: %s", file, numbers[i], target)
				path, frag, _ := strings.Cut(target, "#")
				dest := file
				if path != "" {
					dest = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(file), path)))
					if strings.HasPrefix(dest, "../") || filepath.IsAbs(path) {
						broken = append(broken, where+" (outside the repository)")
						continue
					}
					if _, err := os.Stat(filepath.Join(root, dest)); err != nil {
						broken = append(broken, where+" (no such file)")
						continue
					}
				}
				if frag == "" || !strings.HasSuffix(dest, ".md") {
					continue
				}
				destText, err := read(dest)
				if err != nil {
					return nil, err
				}
				if !anchors(destText)[frag] {
					broken = append(broken, where+" (no such heading)")
				}
			}
		}
	}
	return broken, nil
}

func TestDocLinksResolve(t *testing.T) {
	docs := markdownDocs(t)
	broken, err := brokenLinks(".", docs)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range broken {
		t.Errorf("broken link %s", b)
	}
	// Every page under docs/ is reachable from the README, directly or
	// through another page.
	reached := map[string]bool{"README.md": true}
	queue := []string{"README.md"}
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines, _ := mdLines(string(data))
		for _, m := range mdLink.FindAllStringSubmatch(mdCode.ReplaceAllString(strings.Join(lines, "\n"), ""), -1) {
			path, _, _ := strings.Cut(m[1], "#")
			if path == "" || urlScheme.MatchString(path) {
				continue
			}
			dest := filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(file), path)))
			if strings.HasSuffix(dest, ".md") && !reached[dest] {
				reached[dest] = true
				queue = append(queue, dest)
			}
		}
	}
	for _, d := range docs {
		if !reached[d] {
			t.Errorf("%s: no link leads to it from README.md", d)
		}
	}
}

// The check must be able to fail: a missing file, a missing heading, and a
// link out of the repository are each reported; links in code are not read.
func TestBrokenLinksAreFound(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# Top\n\n## Set up the OAuth credential in Jira\n\n## Notes\n\n## Notes\n\n"+
		"[ok](docs/a.md#what-is-a-key) [ok](#set-up-the-oauth-credential-in-jira) [ok](#notes-1) [ok](pipe.yml)\n"+
		"[ok](https://example.com/x.md) `[not a link](nowhere.md)`\n\n```md\n[not a link](nowhere.md)\n# Not a heading\n```\n"+
		"[bad](docs/b.md) [bad](docs/a.md#nope) [bad](#not-a-heading) [bad](../outside.md)\n")
	write("docs/a.md", "# A\n\n## What is a key?\n\n[ok](../README.md#notes) [bad](../README.md#top-1)\n")
	write("pipe.yml", "name: x\n")
	got, err := brokenLinks(root, []string{"README.md", "docs/a.md"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"README.md:16: docs/b.md (no such file)",
		"README.md:16: docs/a.md#nope (no such heading)",
		"README.md:16: #not-a-heading (no such heading)",
		"README.md:16: ../outside.md (outside the repository)",
		"docs/a.md:5: ../README.md#top-1 (no such heading)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("broken links:\n got %q\nwant %q", got, want)
	}
}
