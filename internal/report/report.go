package report

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Targets are where the CI wants reports, as cienv found them.
type Targets struct {
	CI                string // cienv.CI* name
	GitHubOutput      string // GITHUB_OUTPUT
	GitHubStepSummary string // GITHUB_STEP_SUMMARY
	DroneCardPath     string // DRONE_CARD_PATH
	PipeStorageDir    string // BITBUCKET_PIPE_STORAGE_DIR
}

// MaxAnnotationsPerKind is how many warnings (notices, errors) of one kind —
// one format string — are printed; the rest are counted and summed up in
// one line when the run finishes (all of them show with debug).
const MaxAnnotationsPerKind = 10

// Reporter writes the log and the CI's reports.
//
// Every log call (Infof, Noticef, Warningf, Errorf, Debugf) is safe by
// construction: its format string is ours, and each argument is made inert
// (redacted, control sequences removed, %, CR, LF escaped; see inert.go), so
// no printed value can add a line or start a runner command. The Reporter
// writes GitHub's workflow commands and files itself (github.go): nothing it
// writes can panic, and a report it cannot write is an error returned by
// Finish, never the step's outcome.
type Reporter struct {
	red     *Redactor
	stdout  io.Writer // redacting, for reports the CI reads from the log
	stderr  io.Writer // redacting
	log     io.Writer // stdout on GitHub (where the runner reads commands), else stderr
	github  bool
	targets Targets
	debug   bool

	mu     sync.Mutex // one line at a time; the counts below
	counts map[kind]int
	kinds  []kind // in first-seen order
}

// kind is an annotation level and the format string of the call.
type kind struct{ level, format string }

// New returns a Reporter. On GitHub, log lines and annotations go to stdout
// (where the runner reads workflow commands); elsewhere to stderr, so that a
// dry run's stdout is only the record.
func New(t Targets, stdout, stderr io.Writer, debug bool) *Reporter {
	r := &Reporter{red: &Redactor{}, targets: t, debug: debug, github: t.CI == "github", counts: map[kind]int{}}
	r.stdout, r.stderr = r.red.Writer(stdout), r.red.Writer(stderr)
	r.log = r.stderr
	if r.github {
		r.log = r.stdout
	}
	return r
}

// Mask registers a secret: it never appears in anything the Reporter writes,
// in any of its encoded forms (SecretForms), and on GitHub the runner is told
// to mask each form too (before anything else).
func (r *Reporter) Mask(secret string) {
	if secret == "" {
		return
	}
	if r.github {
		// Before the secret is registered with the redacting writer, which
		// would otherwise turn the command into ::add-mask::***.
		for _, f := range SecretForms(secret) {
			r.writeLine(r.log, "::add-mask::"+escapeData(f))
		}
	}
	r.red.Add(secret)
}

// Redact returns s with every registered secret replaced.
func (r *Reporter) Redact(s string) string { return r.red.String(s) }

// Sprintf formats like fmt.Sprintf with every argument made inert: the text
// every log call prints.
func (r *Reporter) Sprintf(format string, a ...any) string {
	return fmt.Sprintf(format, inertArgs(r.red, a)...)
}

// writeLine writes one line, redacted, in one Write. A log that cannot be
// written has nowhere to report that: the error is dropped.
func (r *Reporter) writeLine(w io.Writer, line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = io.WriteString(w, line+"\n")
}

// plain writes a log line that is not a workflow command. On GitHub a line
// that starts with "::" (after the spaces the runner skips) would be one: its
// first colon is escaped; so would "##[" anywhere (the legacy form). Only a
// format that begins with a value, or a value next to a "[" of the format,
// can get there (values themselves are inert): this is the last guard.
func (r *Reporter) plain(line string) {
	if r.github {
		if t := strings.TrimLeft(line, " "); strings.HasPrefix(t, "::") {
			line = line[:len(line)-len(t)] + "%3A" + t[1:]
		}
		line = strings.ReplaceAll(line, "##[", "##%5B")
	}
	r.writeLine(r.log, line)
}

// command writes a GitHub workflow command whose data is msg.
func (r *Reporter) command(name, msg string) {
	r.writeLine(r.log, "::"+name+"::"+escapeData(msg))
}

// Debugf logs only in debug mode.
func (r *Reporter) Debugf(format string, a ...any) {
	if !r.debug {
		return
	}
	msg := r.Sprintf(format, a...)
	if r.github {
		// The runner hides ::debug:: unless step debugging is on; debug
		// asked for here should show too.
		r.command("debug", msg)
	}
	r.plain("debug: " + msg)
}

// Infof logs a line.
func (r *Reporter) Infof(format string, a ...any) {
	r.plain(r.Sprintf(format, a...))
}

// Noticef logs something the user should see (a notice annotation on GitHub).
func (r *Reporter) Noticef(format string, a ...any) { r.annotate("notice", format, a) }

// Warningf logs a warning (a warning annotation on GitHub).
func (r *Reporter) Warningf(format string, a ...any) { r.annotate("warning", format, a) }

// Errorf logs an error (an error annotation on GitHub).
func (r *Reporter) Errorf(format string, a ...any) { r.annotate("error", format, a) }

// annotate prints an annotation, unless MaxAnnotationsPerKind of its kind
// were printed already: then it is counted (and shown with debug).
func (r *Reporter) annotate(level, format string, a []any) {
	msg := r.Sprintf(format, a...)
	k := kind{level, format}
	r.mu.Lock()
	if _, ok := r.counts[k]; !ok {
		r.kinds = append(r.kinds, k)
	}
	r.counts[k]++
	n := r.counts[k]
	r.mu.Unlock()
	if n > MaxAnnotationsPerKind {
		if r.debug { // msg is inert already
			r.plain(fmt.Sprintf("debug: %s: %s (not annotated: more than %d like it)", level, msg, MaxAnnotationsPerKind))
		}
		return
	}
	r.emit(level, msg)
}

func (r *Reporter) emit(level, msg string) {
	if r.github {
		r.command(level, msg)
		return
	}
	r.plain(level + ": " + msg)
}

// Flush prints, for each kind of annotation that went past
// MaxAnnotationsPerKind, one line saying how many were left out. Finish
// calls it; a run that ends without Finish should.
func (r *Reporter) Flush() {
	r.mu.Lock()
	var lines [][2]string
	for _, k := range r.kinds {
		if n := r.counts[k] - MaxAnnotationsPerKind; n > 0 {
			like := "like the ones above"
			if p := fixedPrefix(k.format); p != "" {
				like = fmt.Sprintf("like %q", p+"…")
			}
			lines = append(lines, [2]string{k.level, fmt.Sprintf("and %d more %ss %s (not shown; run with debug to see them all)", n, k.level, like)})
			r.counts[k] = MaxAnnotationsPerKind
		}
	}
	r.mu.Unlock()
	for _, l := range lines {
		r.emit(l[0], l[1])
	}
}

// fixedPrefix is a format's text before its first verb, trimmed.
func fixedPrefix(format string) string {
	if i := strings.IndexByte(format, '%'); i >= 0 {
		format = format[:i]
	}
	return strings.TrimSpace(strings.TrimRight(format, ": "))
}

// Finish writes the final log line and the CI's reports. Failing to write a
// report is returned but is not the step's failure: the record was already
// sent or not.
func (r *Reporter) Finish(o Outcome) error {
	r.Flush()
	r.Infof("%s", summaryLine(o))
	var errs []string
	if r.github {
		errs = append(errs, r.githubReports(o)...)
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
	// Development information (development_info): whether Jira took every
	// request, and how many commits they held.
	DevInfoSent bool
	CommitsSent int
}

// DevInfoSummary says what development information was sent ("" when none).
func DevInfoSummary(o Outcome) string {
	if !o.DevInfoSent {
		return ""
	}
	return fmt.Sprintf("sent, %d commit(s)", o.CommitsSent)
}

// Sent reports whether Jira took the record.
func (o Outcome) Sent() bool { return o.Status == "sent" }

// Outputs are the step's outputs (the names in action.yml).
func (o Outcome) Outputs() map[string]string {
	return map[string]string{
		"issue_keys":            strings.Join(o.Keys, ","),
		"type":                  o.Kind,
		"state":                 o.State,
		"pipeline_id":           o.PipelineID,
		"environment_id":        o.EnvironmentID,
		"sent":                  fmt.Sprint(o.Sent()),
		"unknown_issue_keys":    strings.Join(o.UnknownKeys, ","),
		"commits_scanned":       fmt.Sprint(o.CommitsScanned),
		"tests_total":           fmt.Sprint(o.TestsTotal),
		"tests_failed":          fmt.Sprint(o.TestsFailed),
		"gating_status":         o.GatingStatus,
		"development_info_sent": fmt.Sprint(o.DevInfoSent),
		"commits_sent":          fmt.Sprint(o.CommitsSent),
	}
}

// IssueLink links a key on the site ("" without a site).
func (o Outcome) IssueLink(key string) string {
	if o.Site == "" {
		return ""
	}
	return strings.TrimRight(o.Site, "/") + "/browse/" + key
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
	if o.Kind == "" && o.Status != "skipped" {
		// development_info: only, or a branch deletion: no record.
		switch o.Status {
		case "sent":
			line := fmt.Sprintf("jira-cicd: sent development information (%d commit(s))", o.CommitsSent)
			if o.Message != "" {
				line += ": " + o.Message
			}
			return line
		case "dry-run":
			return "jira-cicd: dry run, would send development information"
		}
		return "jira-cicd: development information not sent: " + o.Message
	}
	switch o.Status {
	case "sent":
		line := fmt.Sprintf("jira-cicd: sent %s %q (%s) for %s", what, o.DisplayName, o.State, keys)
		if o.DevInfoSent {
			line += fmt.Sprintf("; development information: %d commit(s)", o.CommitsSent)
		}
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

// Markdown is the job summary: the record and links to its issues. Every
// value in it is inert Markdown text (md, mdLink): a title or name cannot
// add markup, HTML, table cells or links.
func Markdown(o Outcome) string {
	var b strings.Builder
	title := statusTitle(o.Status)
	if o.GatingStatus != "" && o.GatingStatus != "allowed" {
		title += ", not allowed by gating"
	}
	fmt.Fprintf(&b, "### Jira %s: %s\n\n", md(cmp.Or(o.Kind, "development information")), title)
	if o.Message != "" {
		fmt.Fprintf(&b, "%s\n\n", md(o.Message))
	}
	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) { // v is Markdown already
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, v)
		}
	}
	row("Record", mdLink(o.DisplayName, o.URL))
	row("State", md(o.State))
	row("Pipeline", md(o.PipelineID))
	if o.Kind == "deployment" {
		row("Environment", md(fmt.Sprintf("%s (%s)", o.EnvironmentName, o.EnvironmentID)))
	}
	if o.GatingStatus != "" {
		row("Gating", md(o.GatingStatus))
	}
	if o.TestsTotal > 0 {
		row("Tests", fmt.Sprintf("%d run, %d failed", o.TestsTotal, o.TestsFailed))
	}
	if o.CommitsScanned > 0 {
		row("Commits scanned", fmt.Sprint(o.CommitsScanned))
	}
	if o.DevInfoSent {
		row("Development information", DevInfoSummary(o))
	}
	links := make([]string, 0, len(o.Keys))
	for _, k := range o.Keys {
		links = append(links, mdLink(k, o.IssueLink(k)))
	}
	row("Issues", strings.Join(links, ", "))
	unknown := make([]string, len(o.UnknownKeys))
	for i, k := range o.UnknownKeys {
		unknown[i] = md(k)
	}
	row("Unknown to Jira", strings.Join(unknown, ", "))
	return b.String()
}
