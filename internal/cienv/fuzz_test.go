package cienv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzGitHubEvent reads any event payload (written to a file, as the runner
// does) with any event name and refs: Detect never panics, says GitHub, and
// gives commit messages that are non-empty and distinct, a previous commit
// that is never the all-zero sha, and a warning for a payload it cannot read.
func FuzzGitHubEvent(f *testing.F) {
	// The real payloads, cut down to what the reader uses: small seeds keep
	// the fuzzer fast (minimizing a 7 KB input takes minutes).
	for _, name := range []string{"push-with-keys.json", "pr-with-keys.json", "github-push.json",
		"github-pr-opened.json", "github-push-new-branch.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "github", name))
		if err != nil {
			f.Fatal(err)
		}
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			f.Fatal(err)
		}
		kept := map[string]any{}
		for _, k := range []string{"ref", "before", "after", "commits", "head_commit", "pull_request"} {
			if v, ok := ev[k]; ok {
				kept[k] = v
			}
		}
		if pr, ok := kept["pull_request"].(map[string]any); ok {
			kept["pull_request"] = map[string]any{"number": pr["number"], "title": pr["title"], "head": pr["head"], "base": pr["base"]}
			for _, side := range []string{"head", "base"} {
				if m, ok := pr[side].(map[string]any); ok {
					kept["pull_request"].(map[string]any)[side] = map[string]any{"ref": m["ref"], "sha": m["sha"]}
				}
			}
		}
		for _, c := range asList(kept["commits"]) {
			if m, ok := c.(map[string]any); ok {
				for k := range m {
					if k != "message" && k != "id" {
						delete(m, k)
					}
				}
			}
		}
		if hc, ok := kept["head_commit"].(map[string]any); ok {
			kept["head_commit"] = map[string]any{"id": hc["id"], "message": hc["message"]}
		}
		small, _ := json.Marshal(kept)
		f.Add(small, "push", "refs/heads/main", "")
		f.Add(small, "pull_request", "refs/pull/2/merge", "feature/ABC-1")
	}
	for _, s := range []string{
		``, `null`, `[]`, `"x"`, `{}`, `{"commits":null}`, `{"commits":[null,1,"x",{"message":""},{"message":"A-1"},{"message":"A-1"}]}`,
		`{"before":"0000000000000000000000000000000000000000","commits":[{"message":"m"}]}`,
		`{"pull_request":{"number":"7","title":{"a":1},"head":{"ref":1,"sha":null},"base":[]}}`,
		`{"pull_request":{"number":1e308,"head":{"ref":"feature/ABC-9"}}}`,
		`{"head_commit":{"message":"ABC-1 fix"},"commits":[{"message":"ABC-1 fix"}]}`,
		"{\"head_commit\":{\"message\":\"\xff\xfe\"}}",
	} {
		f.Add([]byte(s), "push", "refs/tags/v1.0.0", "")
	}
	// One file, rewritten for each input (a worker runs them one at a time).
	dir := f.TempDir()
	path := filepath.Join(dir, "event.json")
	f.Fuzz(func(t *testing.T, payload []byte, event, ref, headRef string) {
		if err := os.WriteFile(path, payload, 0o600); err != nil {
			t.Fatal(err)
		}
		env := []string{
			"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=" + event, "GITHUB_EVENT_PATH=" + path,
			"GITHUB_REF=" + ref, "GITHUB_HEAD_REF=" + headRef, "GITHUB_SHA=ec26c3e57ca3a959ca5aad62de7213c562f8c821",
			"GITHUB_REPOSITORY=o/r", "GITHUB_SERVER_URL=https://github.com", "GITHUB_RUN_ID=1", "GITHUB_RUN_NUMBER=2",
		}
		c := Detect(FromEnviron(env), dir)
		if c.CI != CIGitHub {
			t.Fatalf("CI = %q", c.CI)
		}
		for i, m := range c.CommitMessages {
			if m == "" || slices.Contains(c.CommitMessages[:i], m) {
				t.Fatalf("messages %q", c.CommitMessages)
			}
		}
		if c.PreviousSHA != "" && strings.Trim(c.PreviousSHA, "0") == "" {
			t.Fatalf("previous sha %q", c.PreviousSHA)
		}
		var obj map[string]any
		if json.Unmarshal(payload, &obj) != nil && len(c.Warnings) == 0 {
			t.Fatalf("no warning for the payload %q", payload)
		}
	})
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
