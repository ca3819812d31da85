package cienv

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

func isGitHub(getenv Getenv) bool { return getenv("GITHUB_ACTIONS") == "true" }

// MaxEventSize caps the event payload read from GITHUB_EVENT_PATH: GitHub
// caps webhook payloads at 25 MB, so a larger file is not GitHub's.
const MaxEventSize = 25 << 20

// ghEvent is the part of GitHub's event payloads read here (push,
// pull_request*, deployment, deployment_status, delete, merge_group).
type ghEvent struct {
	Before           string         `json:"before"`
	HeadCommit       *ghCommit      `json:"head_commit"`
	Commits          []ghCommit     `json:"commits"`
	PullRequest      *ghPull        `json:"pull_request"`
	Deployment       *ghDeployment  `json:"deployment"`
	DeploymentStatus *ghDeployState `json:"deployment_status"`
	MergeGroup       *ghMergeGroup  `json:"merge_group"`
	Ref              string         `json:"ref"`      // delete and create events: the short name
	RefType          string         `json:"ref_type"` // delete and create events: branch or tag
}

type ghCommit struct {
	Message string `json:"message"`
}

type ghUser struct {
	Login string `json:"login"`
}

type ghRepo struct {
	FullName string `json:"full_name"`
	Fork     bool   `json:"fork"`
}

type ghPullRef struct {
	Ref  string  `json:"ref"`
	SHA  string  `json:"sha"`
	Repo *ghRepo `json:"repo"` // null when the fork was deleted
}

type ghPull struct {
	Number             int64     `json:"number"`
	Title              string    `json:"title"`
	HTMLURL            string    `json:"html_url"`
	State              string    `json:"state"`
	Merged             bool      `json:"merged"`
	UpdatedAt          string    `json:"updated_at"`
	User               *ghUser   `json:"user"`
	Head               ghPullRef `json:"head"`
	Base               ghPullRef `json:"base"`
	RequestedReviewers []ghUser  `json:"requested_reviewers"`
	Comments           int       `json:"comments"`
	ReviewComments     int       `json:"review_comments"`
}

type ghDeployment struct {
	ID          int64  `json:"id"`
	SHA         string `json:"sha"`
	Ref         string `json:"ref"`
	Environment string `json:"environment"`
}

type ghDeployState struct {
	State       string `json:"state"`
	Environment string `json:"environment"`
	LogURL      string `json:"log_url"`
	TargetURL   string `json:"target_url"`
}

type ghMergeGroup struct {
	HeadCommit *ghCommit `json:"head_commit"`
}

// readGitHub reads the runner's GITHUB_* variables and the event payload at
// GITHUB_EVENT_PATH. A payload that cannot be read costs only what it
// alone gives (messages, pull request, deployment): the plain variables
// are kept.
func readGitHub(getenv Getenv, wd string) Context {
	c := Context{Name: "GitHub Actions", Forge: ForgeGitHub}
	c.Event = first(getenv, "GITHUB_EVENT_NAME")
	c.SHA = first(getenv, "GITHUB_SHA")
	ref, refName := first(getenv, "GITHUB_REF"), first(getenv, "GITHUB_REF_NAME")
	switch first(getenv, "GITHUB_REF_TYPE") {
	case "tag":
		c.Tag = refName
	case "branch":
		c.Branch = refName
	default:
		if t, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
			c.Tag = t
		} else if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
			c.Branch = b
		}
	}

	server := strings.TrimRight(cmp.Or(first(getenv, "GITHUB_SERVER_URL"), "https://github.com"), "/")
	c.RepoName = first(getenv, "GITHUB_REPOSITORY")
	if c.RepoName != "" {
		c.RepoURL = server + "/" + c.RepoName
	}
	c.BuildNumber = first(getenv, "GITHUB_RUN_NUMBER")
	if id := first(getenv, "GITHUB_RUN_ID"); c.RepoURL != "" && isDigits(id) {
		c.BuildURL = c.RepoURL + "/actions/runs/" + id
	}
	githubPipeline(&c, getenv)
	c.GitHubOutput = first(getenv, "GITHUB_OUTPUT")
	c.GitHubStepSummary = first(getenv, "GITHUB_STEP_SUMMARY")
	c.Workspace = cmp.Or(first(getenv, "GITHUB_WORKSPACE"), wd)
	if actor := first(getenv, "GITHUB_ACTOR"); actor == "dependabot[bot]" {
		c.Untrusted = "a Dependabot run: GitHub gives it Dependabot secrets only"
	}

	ev, ok := readEvent(&c, first(getenv, "GITHUB_EVENT_PATH"))
	if ok {
		fromEvent(&c, ev, getenv)
	}
	// GITHUB_HEAD_REF / GITHUB_BASE_REF are set on pull_request* events.
	if h := first(getenv, "GITHUB_HEAD_REF"); h != "" {
		c.Branch, c.Tag = h, ""
		c.PRTargetBranch = first(getenv, "GITHUB_BASE_REF")
	}
	return c
}

// githubPipeline names the Jira pipeline: the workflow file (the same across
// runs and branches), then the job, then the matrix combination, so that
// the jobs and matrix axes of one run never overwrite each other.
// GITHUB_JOB is the job's id in the workflow; the matrix is not in the
// environment: the action passes ${{ toJSON(matrix) }} as INPUT_MATRIX.
func githubPipeline(c *Context, getenv Getenv) {
	workflow := first(getenv, "GITHUB_WORKFLOW")
	c.PipelineName = workflow
	// GITHUB_WORKFLOW_REF is owner/repo/.github/workflows/file.yml@ref.
	if wr, _, _ := strings.Cut(first(getenv, "GITHUB_WORKFLOW_REF"), "@"); wr != "" {
		c.PipelineID = wr
	} else if c.RepoName != "" && workflow != "" {
		c.PipelineID = c.RepoName + "/" + workflow
	}
	job := first(getenv, "GITHUB_JOB")
	axis, err := matrixAxis(getenv("INPUT_MATRIX"))
	if err != nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf("the matrix input is not a JSON object (%v); this job's matrix axes share one Jira pipeline", err))
	}
	c.Axis = axis
	if c.PipelineID != "" {
		c.PipelineID = pipelineKey(pipelineKey(c.PipelineID, job), axis)
	}
	label := job
	if axis != "" {
		label = strings.TrimSpace(job + " " + axis)
	}
	c.PipelineName = pipelineLabel(workflow, label)
}

// maxAxis is the longest matrix description kept as text in a pipeline id;
// a longer one is replaced by its hash (Jira's ids have 255 characters).
const maxAxis = 100

// matrixAxis turns toJSON(matrix) into a stable axis name: key=value pairs
// sorted by key ("go=1.26,os=ubuntu-latest"). A job without a matrix gives
// "null" or "" (or {}): no axis.
func matrixAxis(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		return "", nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return "", err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := string(m[k])
		var s string
		if json.Unmarshal(m[k], &s) == nil {
			v = s
		} else if compact, err := compactJSON(m[k]); err == nil {
			v = compact
		}
		parts[i] = k + "=" + v
	}
	axis := strings.Join(parts, ",")
	if len(axis) > maxAxis {
		sum := sha256.Sum256([]byte(axis))
		axis = "matrix-" + hex.EncodeToString(sum[:8])
	}
	return axis, nil
}

// compactJSON re-encodes a value with its object keys sorted (Go's encoder
// sorts map keys), so that the same matrix value always reads the same.
func compactJSON(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// readEvent reads the payload, at most MaxEventSize bytes. ok is false
// (with a warning) when there is no usable payload; a payload with a field
// of an unexpected type keeps the fields that could be read.
func readEvent(c *Context, path string) (ghEvent, bool) {
	var ev ghEvent
	if path == "" {
		return ev, false
	}
	f, err := os.Open(path)
	if err != nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf("the event payload %s cannot be read (%v); keys come from the branch, HEAD's message and issue_keys only", path, err))
		return ev, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxEventSize+1))
	switch {
	case err != nil:
		c.Warnings = append(c.Warnings, fmt.Sprintf("the event payload %s cannot be read (%v); keys come from the branch, HEAD's message and issue_keys only", path, err))
		return ev, false
	case len(data) > MaxEventSize:
		c.Warnings = append(c.Warnings, fmt.Sprintf("the event payload %s is larger than %d MB, more than GitHub sends; it is not read", path, MaxEventSize>>20))
		return ev, false
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			c.Warnings = append(c.Warnings, fmt.Sprintf("the event payload %s has a value of an unexpected type (%v); that value is ignored", path, err))
			return ev, true
		}
		c.Warnings = append(c.Warnings, fmt.Sprintf("the event payload %s is not valid JSON (%v); only the GITHUB_* variables are used", path, err))
		return ghEvent{}, false
	}
	return ev, true
}

func fromEvent(c *Context, ev ghEvent, getenv Getenv) {
	if ev.HeadCommit != nil {
		c.CommitMessages = addMessage(c.CommitMessages, ev.HeadCommit.Message)
	}
	if ev.MergeGroup != nil && ev.MergeGroup.HeadCommit != nil {
		c.CommitMessages = addMessage(c.CommitMessages, ev.MergeGroup.HeadCommit.Message)
	}
	// The push's commits, oldest first in the payload: newest first here.
	// A set keeps the de-duplication linear in the number of commits.
	// Messages compare without surrounding white space, as addMessage's.
	seen := make(map[string]bool, len(c.CommitMessages)+len(ev.Commits))
	for _, m := range c.CommitMessages {
		seen[strings.TrimSpace(m)] = true
	}
	for i := len(ev.Commits) - 1; i >= 0; i-- {
		m := strings.TrimRight(ev.Commits[i].Message, "\r\n")
		if k := strings.TrimSpace(m); k != "" && !seen[k] {
			seen[k] = true
			c.CommitMessages = append(c.CommitMessages, m)
		}
	}
	if c.Event == "push" {
		c.PreviousSHA = noZero(ev.Before)
	}
	if c.Event == "delete" && ev.RefType == "branch" {
		c.DeletedBranch = ev.Ref
	}
	if pr := ev.PullRequest; pr != nil {
		fromPull(c, pr)
	}
	if d := ev.Deployment; d != nil && (c.Event == "deployment" || c.Event == "deployment_status") {
		fromDeployment(c, d, ev.DeploymentStatus, getenv)
	}
}

func fromPull(c *Context, pr *ghPull) {
	if pr.Number > 0 {
		c.PRNumber = strconv.FormatInt(pr.Number, 10)
	}
	c.PRTitle = pr.Title
	c.PRURL = pr.HTMLURL
	switch {
	case pr.State == "open":
		c.PRState = PROpen
	case pr.State == "closed" && pr.Merged:
		c.PRState = PRMerged
	case pr.State == "closed":
		c.PRState = PRDeclined
	}
	if pr.User != nil {
		c.PRAuthor = pr.User.Login
	}
	for _, r := range pr.RequestedReviewers {
		if r.Login != "" {
			c.PRReviewers = append(c.PRReviewers, r.Login)
		}
	}
	c.PRCommentCount = max(0, pr.Comments) + max(0, pr.ReviewComments)
	if t, err := time.Parse(time.RFC3339, pr.UpdatedAt); err == nil {
		c.PRUpdated = t
	}
	c.PRHeadSHA, c.PRBaseSHA = pr.Head.SHA, pr.Base.SHA
	if pr.Head.Ref != "" {
		c.Branch, c.Tag = pr.Head.Ref, ""
	}
	// GITHUB_SHA is a merge commit on pull_request events; Jira should
	// show the PR's own head commit.
	if pr.Head.SHA != "" {
		c.SHA = pr.Head.SHA
	}
	c.PRTargetBranch = pr.Base.Ref
	// pull_request_target runs in the base repository with its secrets:
	// only these events run a fork's code without them.
	switch c.Event {
	case "pull_request", "pull_request_review", "pull_request_review_comment":
		switch head := pr.Head.Repo; {
		case head == nil:
			c.Untrusted = "a pull request from a deleted fork: GitHub gives no secrets to pull requests from forks"
		case head.Fork || (pr.Base.Repo != nil && head.FullName != pr.Base.Repo.FullName):
			c.Untrusted = fmt.Sprintf("a pull request from the fork %s: GitHub gives no secrets to pull requests from forks", head.FullName)
		}
	}
}

// deploymentStates maps deployment_status.state onto Jira's deployment
// states. inactive (a deployment superseded by a later one) has no Jira
// counterpart: unknown.
var deploymentStates = map[string]string{
	"queued": "pending", "pending": "pending", "in_progress": "in_progress",
	"success": "successful", "failure": "failed", "error": "failed", "inactive": "unknown",
}

// fromDeployment reads a deployment or deployment_status event: the
// deployment's environment, commit and ref; its status's state and link.
// Every status of one GitHub deployment updates the same Jira deployment:
// the deployment id is the sequence number.
func fromDeployment(c *Context, d *ghDeployment, st *ghDeployState, getenv Getenv) {
	c.Environment = d.Environment
	if d.ID > 0 {
		c.DeploymentID = strconv.FormatInt(d.ID, 10)
		c.BuildNumber = c.DeploymentID
	}
	if d.SHA != "" {
		c.SHA = d.SHA
	}
	if r := strings.TrimSpace(d.Ref); r != "" && !strings.EqualFold(r, d.SHA) {
		if t, ok := strings.CutPrefix(r, "refs/tags/"); ok || first(getenv, "GITHUB_REF_TYPE") == "tag" {
			c.Tag, c.Branch = cmp.Or(t, r), ""
		} else {
			c.Branch, c.Tag = strings.TrimPrefix(r, "refs/heads/"), ""
		}
	}
	if st == nil {
		return
	}
	c.Environment = cmp.Or(st.Environment, c.Environment)
	if s, ok := deploymentStates[strings.ToLower(st.State)]; ok {
		c.Status = s
	} else if st.State != "" {
		c.Warnings = append(c.Warnings, fmt.Sprintf("deployment_status.state %q is not one GitHub documents; the state is not taken from it", st.State))
	}
	for _, u := range []string{st.LogURL, st.TargetURL} {
		if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
			c.BuildURL = u
			break
		}
	}
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
