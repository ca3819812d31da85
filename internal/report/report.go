package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// Targets are where the CI wants reports, as cienv found them.
type Targets struct {
	CI                string // cienv.CI* name
	GitHubOutput      string // GITHUB_OUTPUT
	GitHubStepSummary string // GITHUB_STEP_SUMMARY
	DroneCardPath     string // DRONE_CARD_PATH
	PipeStorageDir    string // BITBUCKET_PIPE_STORAGE_DIR
}

// Reporter writes the log and the CI's reports.
type Reporter struct {
	red     *Redactor
	log     io.Writer
	stdout  io.Writer // redacting, for reports the CI reads from the log
	stderr  io.Writer // redacting
	gh      *githubactions.Action
	targets Targets
	debug   bool
}

// New returns a Reporter. On GitHub, log lines and annotations go to stdout
// (where the runner reads workflow commands); elsewhere to stderr, so that a
// dry run's stdout is only the record.
func New(t Targets, stdout, stderr io.Writer, debug bool) *Reporter {
	r := &Reporter{red: &Redactor{}, targets: t, debug: debug}
	r.stdout, r.stderr = r.red.Writer(stdout), r.red.Writer(stderr)
	if t.CI == "github" {
		r.log = r.stdout
		r.gh = githubactions.New(
			githubactions.WithWriter(r.stdout),
			githubactions.WithGetenv(func(k string) string {
				switch k {
				case "GITHUB_OUTPUT":
					return t.GitHubOutput
				case "GITHUB_STEP_SUMMARY":
					return t.GitHubStepSummary
				}
				return ""
			}),
		)
	} else {
		r.log = r.stderr
	}
	return r
}

// Mask registers a secret: it never appears in anything the Reporter writes,
// and on GitHub the runner is told to mask it too (before anything else).
func (r *Reporter) Mask(secret string) {
	if secret == "" {
		return
	}
	if r.gh != nil {
		// Before the secret is registered with the redacting writer, which
		// would otherwise turn the command into ::add-mask::***.
		r.gh.AddMask(secret)
	}
	r.red.Add(secret)
}

// Redact returns s with every registered secret replaced.
func (r *Reporter) Redact(s string) string { return r.red.String(s) }

// Debugf logs only in debug mode.
func (r *Reporter) Debugf(format string, a ...any) {
	if !r.debug {
		return
	}
	if r.gh != nil {
		r.gh.Debugf(format, a...)
		// The runner hides ::debug:: unless step debugging is on; debug
		// asked for here should show.
		fmt.Fprintf(r.log, "debug: "+format+"\n", a...)
		return
	}
	fmt.Fprintf(r.log, "debug: "+format+"\n", a...)
}

// Infof logs a line.
func (r *Reporter) Infof(format string, a ...any) {
	if r.gh != nil {
		r.gh.Infof(format+"\n", a...)
		return
	}
	fmt.Fprintf(r.log, format+"\n", a...)
}

// Noticef logs something the user should see (a notice annotation on GitHub).
func (r *Reporter) Noticef(format string, a ...any) {
	if r.gh != nil {
		r.gh.Noticef(format, a...)
		return
	}
	fmt.Fprintf(r.log, "notice: "+format+"\n", a...)
}

// Warningf logs a warning (a warning annotation on GitHub).
func (r *Reporter) Warningf(format string, a ...any) {
	if r.gh != nil {
		r.gh.Warningf(format, a...)
		return
	}
	fmt.Fprintf(r.log, "warning: "+format+"\n", a...)
}

// Errorf logs an error (an error annotation on GitHub).
func (r *Reporter) Errorf(format string, a ...any) {
	if r.gh != nil {
		r.gh.Errorf(format, a...)
		return
	}
	fmt.Fprintf(r.log, "error: "+format+"\n", a...)
}

// Outcome is what happened, for outputs, summaries and cards.
type Outcome struct {
	Status          string // sent, skipped, dry-run, failed
	Kind            string // build or deployment
	State           string
	DisplayName     string
	URL             string
	PipelineID      string
	EnvironmentID   string
	EnvironmentName string
	Keys            []string
	UnknownKeys     []string
	Site            string // for issue links; "" when unknown
	Message         string // why it failed or was skipped
	CommitsScanned  int
	TestsTotal      int64
	TestsFailed     int64
	GatingStatus    string
}

// Sent reports whether Jira took the record.
func (o Outcome) Sent() bool { return o.Status == "sent" }

// Outputs are the step's outputs (the names in action.yml).
func (o Outcome) Outputs() map[string]string {
	return map[string]string{
		"issue_keys":         strings.Join(o.Keys, ","),
		"type":               o.Kind,
		"state":              o.State,
		"pipeline_id":        o.PipelineID,
		"environment_id":     o.EnvironmentID,
		"sent":               fmt.Sprint(o.Sent()),
		"unknown_issue_keys": strings.Join(o.UnknownKeys, ","),
		"commits_scanned":    fmt.Sprint(o.CommitsScanned),
		"tests_total":        fmt.Sprint(o.TestsTotal),
		"tests_failed":       fmt.Sprint(o.TestsFailed),
		"gating_status":      o.GatingStatus,
	}
}

// IssueLink links a key on the site ("" without a site).
func (o Outcome) IssueLink(key string) string {
	if o.Site == "" {
		return ""
	}
	return strings.TrimRight(o.Site, "/") + "/browse/" + key
}

// Finish writes the final log line and the CI's reports. Failing to write a
// report is returned but is not the step's failure: the record was already
// sent or not.
func (r *Reporter) Finish(o Outcome) error {
	r.Infof("%s", r.Redact(summaryLine(o)))
	var errs []string
	if r.gh != nil {
		if err := r.githubReports(o); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if r.targets.DroneCardPath != "" {
		if err := r.writeDroneCard(o); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if r.targets.PipeStorageDir != "" {
		if err := r.writePipeResult(o); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("writing the CI's reports: %s", strings.Join(errs, "; "))
	}
	return nil
}

func summaryLine(o Outcome) string {
	what := o.Kind
	if o.Kind == "deployment" && o.EnvironmentName != "" {
		what += " to " + o.EnvironmentName
	}
	keys := strings.Join(o.Keys, ", ")
	if keys == "" {
		keys = "no issue keys"
	}
	switch o.Status {
	case "sent":
		line := fmt.Sprintf("jira-cicd: sent %s %q (%s) for %s", what, o.DisplayName, o.State, keys)
		if o.GatingStatus != "" {
			// Jira took the record; whether the deployment may go on is the
			// gate's answer.
			line += "; gating: " + o.GatingStatus
			if o.Message != "" {
				line += " (" + o.Message + ")"
			}
		}
		return line
	case "dry-run":
		return fmt.Sprintf("jira-cicd: dry run, would send %s %q (%s) for %s", what, o.DisplayName, o.State, keys)
	case "skipped":
		return fmt.Sprintf("jira-cicd: nothing sent: %s", o.Message)
	}
	return fmt.Sprintf("jira-cicd: %s %q not sent: %s", what, o.DisplayName, o.Message)
}

func (r *Reporter) githubReports(o Outcome) error {
	outs := o.Outputs()
	names := make([]string, 0, len(outs))
	for k := range outs {
		names = append(names, k)
	}
	sort.Strings(names)
	if r.targets.GitHubOutput != "" {
		for _, k := range names {
			r.gh.SetOutput(k, r.Redact(outs[k]))
		}
	}
	if r.targets.GitHubStepSummary != "" {
		r.gh.AddStepSummary(r.Redact(Markdown(o)))
	}
	return nil
}

// Markdown is the job summary: the record and links to its issues.
func Markdown(o Outcome) string {
	var b strings.Builder
	title := map[string]string{"sent": "sent to Jira", "dry-run": "dry run (nothing sent)", "skipped": "nothing sent", "failed": "not sent"}[o.Status]
	if o.GatingStatus != "" && o.GatingStatus != "allowed" {
		title += ", not allowed by gating"
	}
	fmt.Fprintf(&b, "### Jira %s: %s\n\n", o.Kind, title)
	if o.Message != "" {
		fmt.Fprintf(&b, "%s\n\n", o.Message)
	}
	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, strings.ReplaceAll(v, "|", `\|`))
		}
	}
	if o.URL != "" {
		row("Record", fmt.Sprintf("[%s](%s)", o.DisplayName, o.URL))
	} else {
		row("Record", o.DisplayName)
	}
	row("State", o.State)
	row("Pipeline", o.PipelineID)
	if o.Kind == "deployment" {
		row("Environment", fmt.Sprintf("%s (`%s`)", o.EnvironmentName, o.EnvironmentID))
	}
	if o.GatingStatus != "" {
		row("Gating", o.GatingStatus)
	}
	if o.TestsTotal > 0 {
		row("Tests", fmt.Sprintf("%d run, %d failed", o.TestsTotal, o.TestsFailed))
	}
	if o.CommitsScanned > 0 {
		row("Commits scanned", fmt.Sprint(o.CommitsScanned))
	}
	links := make([]string, 0, len(o.Keys))
	for _, k := range o.Keys {
		if l := o.IssueLink(k); l != "" {
			links = append(links, fmt.Sprintf("[%s](%s)", k, l))
		} else {
			links = append(links, k)
		}
	}
	row("Issues", strings.Join(links, ", "))
	row("Unknown to Jira", strings.Join(o.UnknownKeys, ", "))
	return b.String()
}
