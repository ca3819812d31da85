package settings

import (
	"fmt"
	"io"
	"strings"
)

// Usage writes --help: every setting with its sources and default.
func Usage(w io.Writer, version string) {
	fmt.Fprintf(w, "jira-cicd %s: send one build or deployment record to Jira Software Cloud.\n\n", version)
	fmt.Fprintln(w, "Every setting NAME is read from, first non-empty wins: --name (underscores as dashes),")
	fmt.Fprintln(w, "INPUT_NAME (GitHub Actions), PLUGIN_NAME (Drone, Woodpecker), JIRA_NAME (Bitbucket, docker run, any CI).")
	group := ""
	for _, r := range table {
		if r.Group != group {
			group = r.Group
			fmt.Fprintf(w, "\n%s:\n", group)
		}
		fmt.Fprintf(w, "  %s\n      %s\n", r.Flag(), r.Help)
		if d := r.DefaultText(); d != "" {
			fmt.Fprintf(w, "      default: %s\n", d)
		}
	}
	fmt.Fprintln(w, "\nExit codes: 0 sent, skipped (no issue keys) or dry run; 1 Jira or network failure (0 with")
	fmt.Fprintln(w, "fail_on_error=false); 2 invalid settings.")
}

// Naming says how a documentation page spells a setting.
type Naming int

// Namings used by the docs.
const (
	SnakeCase Naming = iota // GitHub inputs, Drone/Woodpecker settings: client_id
	JiraEnv                 // Bitbucket pipes and docker run: JIRA_CLIENT_ID
)

// MarkdownTable renders the settings table for a documentation page.
func MarkdownTable(n Naming) string {
	var b strings.Builder
	b.WriteString("| setting | meaning | default |\n|---|---|---|\n")
	for _, r := range table {
		name := r.Name
		if n == JiraEnv {
			name = "JIRA_" + strings.ToUpper(r.Name)
		}
		def := r.DefaultText()
		if r.Default != "" && r.Doc == "" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", name, escapeCell(r.Help), escapeCell(def))
	}
	return b.String()
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
