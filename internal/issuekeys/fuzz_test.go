package issuekeys

import (
	"strings"
	"testing"
)

// FuzzFind checks the properties every answer must have: each key found is a
// valid key, appears in the text (case-insensitively, for allowlisted
// projects), is not glued to a word character, and is reported once.
func FuzzFind(f *testing.F) {
	for _, s := range []string{
		"ABC-12", "feature/ABC-12-login", "2022-02", "ABC-12x", "A-1", "MG01-115 JF1-13",
		"feature/abc-12-x", "«ABC-1»", "x_ABC-7", "ABC-1 ABC-1", "\xff\xfeABC-1", "ABC-\x00",
		"release/ABC-1_hotfix", "branchname_JRA-96", "_JRA-123_", "JRA-090 PAC-001", "branchname_abc-96",
		strings.Repeat("Q", 256) + "-1 ABC-2", strings.Repeat("A_", 300) + "ABC-1", "ABC-" + strings.Repeat("7", 256),
	} {
		f.Add(s, "")
		f.Add(s, "ABC")
	}
	f.Fuzz(func(t *testing.T, text, project string) {
		var projects []string
		if project != "" {
			projects = []string{project}
		}
		// A blank project is no project: New skips it.
		active := strings.TrimSpace(project) != ""
		e := New(projects)
		keys, dropped := e.scan(text, active)
		if strict := e.Find(text); len(strict) > len(keys) {
			t.Fatalf("Find(%q) = %v finds more than FindBranch %v", text, strict, keys)
		}
		for _, d := range dropped {
			if Valid(strings.ToUpper(d)) || !strings.Contains(text, d) {
				t.Fatalf("scan(%q) dropped %q, a valid key or not in the text", text, d)
			}
		}
		seen := map[string]bool{}
		upper := strings.ToUpper(text)
		for _, k := range keys {
			if !Valid(k) {
				t.Fatalf("Find(%q) returned invalid key %q", text, k)
			}
			if seen[k] {
				t.Fatalf("Find(%q) returned %q twice", text, k)
			}
			seen[k] = true
			if !strings.Contains(upper, k) {
				t.Fatalf("Find(%q) returned %q, not in the text", text, k)
			}
			if active && k[:strings.LastIndexByte(k, '-')] != strings.ToUpper(strings.TrimSpace(project)) {
				t.Fatalf("Find(%q) with allowlist %q returned %q", text, project, k)
			}
		}
		if !active {
			// Without an allowlist every key appears verbatim.
			for _, k := range keys {
				if !strings.Contains(text, k) {
					t.Fatalf("Find(%q) returned %q, not verbatim in the text", text, k)
				}
			}
		}
	})
}
