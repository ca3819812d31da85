package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedactorWriter(t *testing.T) {
	var r Redactor
	r.Add("abc") // too short to mask safely: ignored
	r.Add("s3cret-value")
	r.Add("s3cret-value")
	var b bytes.Buffer
	w := r.Writer(&b)
	n, err := w.Write([]byte("token=s3cret-value abc\n"))
	if err != nil || n != len("token=s3cret-value abc\n") {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if b.String() != "token=*** abc\n" {
		t.Errorf("got %q", b.String())
	}
}

func sample() Outcome {
	return Outcome{
		Status: "sent", Kind: "deployment", State: "successful", DisplayName: "CI #7",
		URL: "https://ci.example.com/7", PipelineID: "p", EnvironmentID: "prod", EnvironmentName: "Prod",
		Keys: []string{"ABC-1", "DEF-2"}, Site: "https://acme.atlassian.net",
	}
}

func TestSummaryLine(t *testing.T) {
	o := sample()
	if got := summaryLine(o); got != `jira-cicd: sent deployment to Prod "CI #7" (successful) for ABC-1, DEF-2` {
		t.Errorf("sent: %s", got)
	}
	o.GatingStatus, o.Message = "prevented", "Jira's gating prevented the deployment"
	if got := summaryLine(o); !strings.HasSuffix(got, "; gating: prevented (Jira's gating prevented the deployment)") {
		t.Errorf("gated: %s", got)
	}
	o = sample()
	o.Status, o.Message = "failed", "token request failed (HTTP 401)"
	if got := summaryLine(o); got != `jira-cicd: deployment to Prod "CI #7" not sent: token request failed (HTTP 401)` {
		t.Errorf("failed: %s", got)
	}
	o.Status, o.Message, o.Keys = "skipped", "no Jira issue keys found", nil
	if got := summaryLine(o); got != "jira-cicd: nothing sent: no Jira issue keys found" {
		t.Errorf("skipped: %s", got)
	}
}

func TestMarkdownLinksIssues(t *testing.T) {
	o := sample()
	o.UnknownKeys = []string{"DEF-2"}
	md := Markdown(o)
	for _, want := range []string{
		"### Jira deployment: sent to Jira",
		"[CI #7](https://ci.example.com/7)",
		"[ABC-1](https://acme.atlassian.net/browse/ABC-1)",
		"| Environment | Prod (prod) |",
		"| Unknown to Jira | DEF-2 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	o.GatingStatus = "prevented"
	if md := Markdown(o); !strings.Contains(md, "sent to Jira, not allowed by gating") {
		t.Errorf("gated summary:\n%s", md)
	}
}

func TestGitHubReports(t *testing.T) {
	dir := t.TempDir()
	out, sum := filepath.Join(dir, "out"), filepath.Join(dir, "sum")
	var stdout bytes.Buffer
	r := New(Targets{CI: "github", GitHubOutput: out, GitHubStepSummary: sum}, &stdout, &bytes.Buffer{}, false)
	r.Mask("hunter2-secret")
	o := sample()
	o.DisplayName = "leaks hunter2-secret"
	if err := r.Finish(o); err != nil {
		t.Fatal(err)
	}
	outputs, _ := os.ReadFile(out)
	summary, _ := os.ReadFile(sum)
	for name, text := range map[string]string{"outputs": string(outputs), "summary": string(summary)} {
		if strings.Contains(text, "hunter2-secret") {
			t.Errorf("%s leak the secret:\n%s", name, text)
		}
	}
	if !strings.Contains(string(outputs), "\nissue_keys=ABC-1,DEF-2\n") {
		t.Errorf("outputs:\n%s", outputs)
	}
	lines := strings.Split(stdout.String(), "\n")
	if lines[0] != "::add-mask::hunter2-secret" || strings.Contains(strings.Join(lines[1:], "\n"), "hunter2-secret") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}

func TestPlainLogGoesToStderr(t *testing.T) {
	var stdout, stderr bytes.Buffer
	r := New(Targets{CI: "drone"}, &stdout, &stderr, false)
	r.Warningf("careful %d", 1)
	r.Debugf("hidden")
	if stdout.Len() != 0 || stderr.String() != "warning: careful 1\n" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}
