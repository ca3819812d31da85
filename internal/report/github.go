package report

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// GitHub's files are written here, not through go-githubactions: its
// SetOutput uses the multi-line "name<<ghadelimiter_<uuid>" form, where a
// value holding that delimiter and a newline ends the block and adds an
// output, and its file and command writers panic on any write error (after a
// successful send that was a stack trace and exit 2). The writer below is a
// dozen lines, writes every output on one line ("name=value", the runner's
// single-line form, with controls and line breaks removed from the value)
// and returns errors, which Finish reports as a warning.

// githubReports writes the step's outputs and job summary; it returns what
// could not be written.
func (r *Reporter) githubReports(o Outcome) []string {
	o = r.redacted(o)
	var errs []string
	if path := r.targets.GitHubOutput; path != "" {
		if err := appendFile(path, outputLines(o.Outputs())); err != nil {
			errs = append(errs, fmt.Sprintf("the step's outputs (GITHUB_OUTPUT=%s): %v", path, err))
		}
	}
	if path := r.targets.GitHubStepSummary; path != "" {
		if err := appendFile(path, r.Redact(Markdown(o))+"\n"); err != nil {
			errs = append(errs, fmt.Sprintf("the job summary (GITHUB_STEP_SUMMARY=%s): %v", path, err))
		}
	}
	return errs
}

// outputLines is GITHUB_OUTPUT's single-line form, one "name=value" line per
// output, sorted by name. The runner takes a line as name=value when its
// first "=" comes before any "<<", and names have neither.
func outputLines(outs map[string]string) string {
	names := make([]string, 0, len(outs))
	for k := range outs {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k + "=" + oneLine(outs[k]) + "\n")
	}
	return b.String()
}

// appendFile appends text to the file at path in one write, as the runner
// expects its files to grow.
func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
