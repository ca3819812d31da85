package cienv

import (
	"encoding/json"
	"os"
	"path/filepath"
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
		`{"deployment":{"id":7,"sha":"abc","ref":"refs/tags/v1","environment":"prod"},"deployment_status":{"state":"failure","log_url":"https://x/1"}}`,
		`{"deployment":{"id":"7","environment":{"a":1}},"deployment_status":{"state":1}}`,
		`{"merge_group":{"head_commit":{"message":"ABC-2 queue"}},"ref":"x","ref_type":"branch"}`,
		`{"pull_request":{"number":3,"state":"closed","merged":true,"head":{"repo":null},"base":{"repo":{"full_name":"o/r"}},"requested_reviewers":[null,{"login":"a"}],"comments":-5}}`,
		`{"head_commit":{"message":"ABC-1 fix"},"commits":[{"message":"ABC-1 fix\n"},{"message":"  "}]}`,
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
		for _, ev := range []string{event, "deployment_status", "pull_request"} {
			env[1] = "GITHUB_EVENT_NAME=" + ev
			checkFuzzedContext(t, Detect(FromEnviron(env), dir), payload, ref, headRef)
		}
	})
}

func checkFuzzedContext(t *testing.T, c Context, payload []byte, ref, headRef string) {
	t.Helper()
	if c.CI != CIGitHub {
		t.Fatalf("CI = %q", c.CI)
	}
	seen := map[string]bool{}
	for _, m := range c.CommitMessages {
		if strings.TrimSpace(m) == "" || seen[strings.TrimSpace(m)] {
			t.Fatalf("messages %q", c.CommitMessages)
		}
		seen[strings.TrimSpace(m)] = true
	}
	if c.PRCommentCount < 0 {
		t.Fatalf("comment count %d", c.PRCommentCount)
	}
	// The variables survive any payload.
	if c.RepoName != "o/r" || c.BuildNumber == "" && c.DeploymentID == "" {
		t.Fatalf("variables lost: %+v", c)
	}
	if c.PreviousSHA != "" && strings.Trim(c.PreviousSHA, "0") == "" {
		t.Fatalf("previous sha %q", c.PreviousSHA)
	}
	var obj map[string]any
	if json.Unmarshal(payload, &obj) != nil && len(c.Warnings) == 0 {
		t.Fatalf("no warning for the payload %q", payload)
	}
	if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok && headRef == "" && !json.Valid(payload) && c.Branch != strings.TrimSpace(b) {
		t.Fatalf("branch %q from GITHUB_REF %q lost with a bad payload", c.Branch, ref)
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
