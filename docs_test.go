package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jira-cicd/jira-cicd/internal/report"
	"github.com/jira-cicd/jira-cicd/internal/settings"
)

// The docs' settings tables, and the inputs and outputs of both actions
// (action.yml, the container one; binary/action.yml, the composite one,
// which also maps each input to the INPUT_ variable the binary reads), are
// generated from the settings table and the report's outputs. A stale doc fails this test; `go test . -run Docs -update`
// rewrites them.
var update = flag.Bool("update", false, "rewrite generated documentation")

// generated sections: file -> marker name -> content.
func generated() map[string]map[string]string {
	return map[string]map[string]string{
		"README.md":              {"settings": settings.MarkdownTable(settings.SnakeCase)},
		"docs/github-actions.md": {"outputs": outputsTable()},
		"action.yml":             {"inputs": actionInputs(), "outputs": actionOutputs()},
		"binary/action.yml": {"inputs": actionInputs(), "outputs": compositeOutputs("run"),
			"env": compositeEnv("        ")},
		"docs.md": {"settings": settings.MarkdownTable(settings.SnakeCase)},
	}
}

var outputHelp = map[string]string{
	"issue_keys":            "The issue keys sent, comma-separated.",
	"type":                  "build or deployment.",
	"state":                 "The Jira state sent.",
	"pipeline_id":           "The pipeline id sent.",
	"environment_id":        "The environment id sent (deployments).",
	"sent":                  "true when Jira accepted the record.",
	"unknown_issue_keys":    "Keys Jira did not know, comma-separated.",
	"commits_scanned":       "How many commit messages were scanned for keys.",
	"tests_total":           "Tests counted in the JUnit files (builds).",
	"tests_failed":          "Failed tests counted in the JUnit files (builds).",
	"gating_status":         "The final gating status (deployments with gating): allowed, prevented, expired, invalid, timeout, or error.",
	"development_info_sent": "true when Jira accepted the development information (development_info).",
	"commits_sent":          "How many commits were sent as development information.",
}

func outputNames() []string {
	outs := report.Outcome{}.Outputs()
	names := []string{"issue_keys", "type", "state", "pipeline_id", "environment_id", "sent", "unknown_issue_keys",
		"commits_scanned", "tests_total", "tests_failed", "gating_status", "development_info_sent", "commits_sent"}
	if len(names) != len(outs) {
		panic(fmt.Sprintf("outputs changed: %v", outs))
	}
	return names
}

func outputsTable() string {
	var b strings.Builder
	b.WriteString("| output | meaning |\n|---|---|\n")
	for _, n := range outputNames() {
		fmt.Fprintf(&b, "| `%s` | %s |\n", n, outputHelp[n])
	}
	return b.String()
}

// contextInputs are inputs that are not settings: what a GitHub job knows
// and its environment does not carry, passed by each action's input default
// (the runner evaluates a default in the step's context). cienv reads them.
var contextInputs = []struct{ name, help, def string }{
	{"matrix", "This job's matrix combination, so each matrix axis is its own Jira pipeline. Leave the default.", "${{ toJSON(matrix) }}"},
}

func actionInputs() string {
	var b strings.Builder
	for _, r := range settings.Table() {
		fmt.Fprintf(&b, "  %s:\n    description: %s\n    required: false\n", r.Name, yamlString(r.Help+defaultNote(r)))
	}
	for _, in := range contextInputs {
		fmt.Fprintf(&b, "  %s:\n    description: %s\n    required: false\n    default: %s\n", in.name, yamlString(in.help), yamlString(in.def))
	}
	return b.String()
}

func defaultNote(r settings.Row) string {
	switch d := r.DefaultText(); {
	case strings.HasPrefix(d, "required"):
		return " Required" + strings.TrimPrefix(d, "required") + "."
	case d != "":
		return " Default: " + d + "."
	}
	return ""
}

func actionOutputs() string {
	var b strings.Builder
	for _, n := range outputNames() {
		fmt.Fprintf(&b, "  %s:\n    description: %s\n", n, yamlString(outputHelp[n]))
	}
	return b.String()
}

// compositeOutputs are the composite action's outputs: the same names and
// descriptions, each the value the binary set in the step step.
func compositeOutputs(step string) string {
	var b strings.Builder
	for _, n := range outputNames() {
		fmt.Fprintf(&b, "  %s:\n    description: %s\n    value: ${{ steps.%s.outputs.%s }}\n", n, yamlString(outputHelp[n]), step, n)
	}
	return b.String()
}

// compositeEnv maps every input to the variable a container action would
// get for it (INPUT_ and the upper-case name), which the binary reads.
func compositeEnv(indent string) string {
	var b strings.Builder
	for _, r := range settings.Table() {
		fmt.Fprintf(&b, "%s%s: ${{ inputs.%s }}\n", indent, r.EnvNames()[0], r.Name)
	}
	for _, in := range contextInputs {
		fmt.Fprintf(&b, "%sINPUT_%s: ${{ inputs.%s }}\n", indent, strings.ToUpper(in.name), in.name)
	}
	return b.String()
}

func yamlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func TestDocsAreGenerated(t *testing.T) {
	for file, sections := range generated() {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		for name, want := range sections {
			re := regexp.MustCompile(`(?s)(# <generated:` + name + `>\n|<!-- generated:` + name + ` -->\n)(.*?)([ \t]*# </generated:` + name + `>|<!-- /generated:` + name + ` -->)`)
			m := re.FindStringSubmatchIndex(text)
			if m == nil {
				t.Errorf("%s: no generated:%s markers", file, name)
				continue
			}
			got := text[m[4]:m[5]]
			if got == want {
				continue
			}
			if *update {
				text = text[:m[4]] + want + text[m[5]:]
				continue
			}
			t.Errorf("%s: section %s is stale; run `go test . -run Docs -update`", file, name)
		}
		if *update && text != string(raw) {
			if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
