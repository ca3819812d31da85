// Package devinfo turns a run's commits, branch and pull request into the
// request bodies of Jira's Development Information API: the commits whose
// messages name issue keys, the branch when its name names one, the pull
// request, each with its page on the forge. It is pure: no I/O, no clock
// (the caller passes now), no environment; the caller passes the key
// extractor (internal/issuekeys with the project_keys setting).
package devinfo

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Repo is the repository the run builds.
type Repo struct {
	// WebURL is the repository's web page (the repository_url setting, or
	// what the CI says); clone URLs of the same host and path work too.
	WebURL string
	// Name is its display name; "" takes the URL's last path segment.
	Name string
	// ID overrides the id derived from WebURL (RepositoryID); it must be
	// made of [A-Za-z0-9._~-], at most 1,024 characters.
	ID string
}

// Person is an author or reviewer.
type Person struct {
	Name  string
	Email string
}

// Commit is one commit of the scanned range.
type Commit struct {
	Hash       string // full sha (40 or 64 hex digits)
	Parents    []string
	AuthorName string
	// AuthorEmail is the author's email, which Jira uses to link the commit
	// to a Jira user.
	AuthorEmail string
	AuthorTime  time.Time
	Message     string
	// FileCount is the number of files changed against the first parent
	// (for a root commit, the files it adds).
	FileCount int
	// Files are the changed files; only files whose line counts are known
	// (Counted) are sent, at most 10, sorted by path.
	Files []File
}

// Change types of a file (the spec's File.changeType).
const (
	ChangeAdded    = "ADDED"
	ChangeCopied   = "COPIED"
	ChangeDeleted  = "DELETED"
	ChangeModified = "MODIFIED"
	ChangeMoved    = "MOVED"
	ChangeUnknown  = "UNKNOWN"
)

// File is a file a commit changed.
type File struct {
	Path   string // relative to the repository root
	Change string // one of the Change constants; anything else is UNKNOWN
	// LinesAdded and LinesRemoved count only when Counted is true: the
	// schema requires both, so a file without counts is left out.
	LinesAdded, LinesRemoved int
	Counted                  bool
}

// Branch is the CI's branch (on a pull request run, the source branch).
type Branch struct {
	Name string
	// Head is the branch's head commit: on a GitHub pull request run the
	// pull request's head, not the temporary merge commit.
	Head Commit
}

// Pull request states (the spec's PullRequest.status).
const (
	StatusOpen     = "OPEN"
	StatusMerged   = "MERGED"
	StatusDeclined = "DECLINED"
)

// Reviewer is a pull request reviewer.
type Reviewer struct {
	Person
	Approved bool
}

// PullRequest is the pull (or merge) request the run builds.
type PullRequest struct {
	Number int64
	Title  string
	// State is StatusOpen (also when ""), StatusMerged or StatusDeclined.
	State             string
	Author            Person // "" takes the source branch head's author
	SourceBranch      string // "" takes Input.Branch's name
	DestinationBranch string
	Reviewers         []Reviewer
	CommentCount      int
	LastUpdate        time.Time // zero takes Input.Now
	// CommitMessages are the messages of the pull request's own commits
	// (base..head, not the base's history); their keys link the pull
	// request too.
	CommitMessages []string
}

// Input is everything Build needs.
type Input struct {
	Repo  Repo
	Forge Forge // "" infers it from Repo.WebURL's host
	// Commits is the scanned range. Only commits whose own message names a
	// key are sent, in this order.
	Commits     []Commit
	Branch      *Branch      // nil: no branch (a tag run)
	PullRequest *PullRequest // nil: not a pull request run
	// Keys finds the issue keys in a text (issuekeys.Extractor.Find with the
	// project_keys setting).
	Keys func(text string) []string
	// Now is the run's time: updateSequenceId of every entity (epoch
	// milliseconds, so each run's data replaces the last one's).
	Now time.Time
	// Product names the tool in providerMetadata ("" leaves it out).
	Product string
}

// Output is what Build made.
type Output struct {
	// Requests are the bodies to send, in order: one, or for more than 400
	// key-naming commits, backfill parts of at most 400 commits each, the
	// branch and pull request in the first. None when nothing names a key.
	Requests []Request
	// Warnings say what was cut or left out, one line each.
	Warnings []string
	// RepositoryID is the repository's id (for DeleteBranch and messages).
	RepositoryID string
	// Commits, Branch and PullRequest count what the requests hold.
	Commits     int
	Branch      bool
	PullRequest bool
}

// Build makes the request bodies. Its errors are about the input: the
// repository URL, the forge, an override id, a missing key extractor.
func Build(in Input) (Output, error) {
	var out Output
	if in.Keys == nil {
		return out, errors.New("devinfo: no key extractor")
	}
	forge := in.Forge
	if forge == "" {
		forge = InferForge("", in.Repo.WebURL)
	}
	if forge == "" {
		return out, fmt.Errorf("forge: cannot tell which forge %s is on; set forge to github, gitlab, gitea, bitbucket or bitbucket_dc", redactURL(strings.TrimSpace(in.Repo.WebURL)))
	}
	if !slices.Contains(Forges(), forge) {
		return out, fmt.Errorf("forge: %q is not a known forge; use github, gitlab, gitea, bitbucket or bitbucket_dc", forge)
	}
	web, err := NormalizeURL(forge, in.Repo.WebURL)
	if err != nil {
		return out, err
	}
	if utf16Len(web) > MaxURL {
		return out, fmt.Errorf("repository_url: longer than %d characters", MaxURL)
	}
	repoID := in.Repo.ID
	if repoID == "" {
		repoID = RepositoryID(web)
	} else if !validID(repoID) {
		return out, fmt.Errorf("repository id %q: use only letters, digits and . _ ~ -, at most %d characters", clipBytes(repoID, 100), MaxIDLength)
	}
	out.RepositoryID = repoID
	b := &builder{
		u:    urls{forge: forge, repo: web},
		keys: in.Keys,
		seq:  max(in.Now.UnixMilli(), 1),
		now:  in.Now,
		warn: func(format string, args ...any) { out.Warnings = append(out.Warnings, fmt.Sprintf(format, args...)) },
	}

	commits := b.commits(in.Commits)
	branch := b.branch(in.Branch)
	pr := b.pullRequest(in.PullRequest, in.Branch)
	b.summarize()
	if len(commits) == 0 && branch == nil && pr == nil {
		return out, nil
	}
	name := clipUnits(oneLine(in.Repo.Name), MaxName)
	if name == "" {
		name = clipUnits(oneLine(lastSegment(web)), MaxName)
	}
	repo := Repository{ID: repoID, Name: name, URL: web, UpdateSequenceID: b.seq}
	var meta *ProviderMetadata
	if in.Product != "" {
		meta = &ProviderMetadata{Product: clipUnits(in.Product, MaxName)}
	}
	backfill := len(commits) > MaxCommitsPerRequest
	for first := true; first || len(commits) > 0; first = false {
		n := min(len(commits), MaxCommitsPerRequest)
		r := repo
		r.Commits = commits[:n:n]
		commits = commits[n:]
		if first {
			if branch != nil {
				r.Branches = []BranchEntity{*branch}
			}
			if pr != nil {
				r.PullRequests = []PullRequestEntity{*pr}
			}
		}
		req := Request{Repositories: []Repository{r}, ProviderMetadata: meta}
		if backfill {
			req.OperationType = OperationBackfill
			req.PreventTransitions = true
		}
		out.Requests = append(out.Requests, req)
		out.Commits += n
	}
	if backfill {
		out.Warnings = append(out.Warnings, fmt.Sprintf("%d commits name issue keys: sent as a backfill in %d parts of at most %d, without Jira automation (transitions, smart commits)",
			out.Commits, len(out.Requests), MaxCommitsPerRequest))
	}
	out.Branch, out.PullRequest = branch != nil, pr != nil
	return out, nil
}

type builder struct {
	u    urls
	keys func(string) []string
	seq  int64
	now  time.Time
	warn func(format string, args ...any)
	// Commits cut or left out, for one warning each however many.
	cut, badHash, tooMany []string
}

// maxNamed bounds the commits a warning names.
const maxNamed = 5

func (b *builder) summarize() {
	for _, w := range []struct {
		list []string
		what string
	}{
		{b.cut, "message cut to 1,024 characters"},
		{b.badHash, "left out: not a full sha"},
		{b.tooMany, fmt.Sprintf("more than %d issue keys; only the first %d sent", MaxIssueKeys, MaxIssueKeys)},
	} {
		list := uniq(w.list)
		if len(list) == 0 {
			continue
		}
		names := strings.Join(list[:min(len(list), maxNamed)], ", ")
		if len(list) > maxNamed {
			names += fmt.Sprintf(" and %d more", len(list)-maxNamed)
		}
		b.warn("%s: %s", names, w.what)
	}
}

// validIssueKey reports whether k matches the spec's issueKeys item pattern
// ^\p{L}[\p{L}\p{Digit}_]{1,255}-\p{Digit}{1,255}$ (Java's \p{Digit} is
// \p{Nd}). Checked by hand: the regexp with its bounded repeats cost 0.7 ms
// and 300 KB to compile at every start of the binary (GODEBUG=inittrace=1),
// a run that sends no development information included. TestValidIssueKey
// holds it to the regexp.
func validIssueKey(k string) bool {
	project, number, ok := strings.Cut(k, "-")
	if !ok {
		return false
	}
	n := 0
	for i, r := range project {
		if i == 0 && !unicode.IsLetter(r) || i > 0 && !unicode.IsLetter(r) && !unicode.Is(unicode.Nd, r) && r != '_' {
			return false
		}
		n++
	}
	if n < 2 || n > 256 {
		return false
	}
	n = 0
	for _, r := range number {
		if !unicode.Is(unicode.Nd, r) {
			return false
		}
		n++
	}
	return n >= 1 && n <= 255
}

// keysOf returns the keys of the texts, in order, without duplicates, only
// those Jira's pattern accepts, at most MaxIssueKeys.
func (b *builder) keysOf(what string, texts ...string) []string {
	var out []string
	seen := map[string]bool{}
	dropped := 0
	for _, t := range texts {
		for _, k := range b.keys(t) {
			if seen[k] || !validIssueKey(k) {
				continue
			}
			seen[k] = true
			if len(out) == MaxIssueKeys {
				dropped++
				continue
			}
			out = append(out, k)
		}
	}
	if dropped > 0 {
		b.tooMany = append(b.tooMany, what)
	}
	return out
}

// validHash reports a full sha: 40 (SHA-1) or 64 (SHA-256) hex digits.
func validHash(h string) bool {
	if len(h) != 40 && len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func short(h string) string { return h[:7] }

func (b *builder) commits(in []Commit) []CommitEntity {
	var out []CommitEntity
	seen := map[string]bool{}
	for _, c := range in {
		h := strings.ToLower(c.Hash)
		if seen[h] {
			continue
		}
		keys := b.keysOf("commit "+shortSafe(h), c.Message)
		if len(keys) == 0 {
			continue
		}
		e, ok := b.commit(c, keys)
		if !ok {
			continue
		}
		seen[h] = true
		out = append(out, e)
	}
	return out
}

func shortSafe(h string) string {
	if validHash(h) {
		return short(h)
	}
	return strconv.Quote(clipBytes(h, 20))
}

// commit makes a commit entity with the given keys; false (and a warning)
// for a commit without a full sha.
func (b *builder) commit(c Commit, keys []string) (CommitEntity, bool) {
	h := strings.ToLower(c.Hash)
	if !validHash(h) {
		b.badHash = append(b.badHash, "commit "+shortSafe(c.Hash))
		return CommitEntity{}, false
	}
	msg := strings.ToValidUTF8(c.Message, "\uFFFD")
	if utf16Len(msg) > MaxMessage {
		msg = clipUnits(msg, MaxMessage)
		b.cut = append(b.cut, "commit "+short(h))
	}
	ts := c.AuthorTime
	if ts.IsZero() {
		ts = b.now
	}
	e := CommitEntity{
		ID:               h,
		Hash:             h,
		DisplayID:        short(h),
		IssueKeys:        keys,
		UpdateSequenceID: b.seq,
		Message:          msg,
		Author:           author(Person{Name: c.AuthorName, Email: c.AuthorEmail}),
		AuthorTimestamp:  ts.UTC().Format(time.RFC3339),
		FileCount:        clampInt32(c.FileCount),
		URL:              b.u.commit(h),
		Files:            b.files(h, c.Files),
	}
	if len(c.Parents) > 1 {
		e.Flags = []string{FlagMergeCommit}
	}
	return e, true
}

func author(p Person) Author {
	a := Author{Name: clipUnits(oneLine(p.Name), MaxName)}
	if e := strings.TrimSpace(p.Email); utf16Len(e) <= MaxName && !strings.ContainsFunc(e, isSpaceOrControl) {
		a.Email = e
	}
	return a
}

func (b *builder) files(sha string, in []File) []FileEntity {
	var out []FileEntity
	for _, f := range in {
		p := strings.ToValidUTF8(f.Path, "\uFFFD")
		if !f.Counted || p == "" || utf16Len(p) > MaxPath || strings.ContainsFunc(p, isControl) {
			continue
		}
		u := b.u.file(sha, p)
		if f.Change == ChangeDeleted {
			u = b.u.commit(sha) // no page for the file at the commit that deletes it
		}
		if utf16Len(u) > MaxURL {
			continue
		}
		ch := f.Change
		switch ch {
		case ChangeAdded, ChangeCopied, ChangeDeleted, ChangeModified, ChangeMoved:
		default:
			ch = ChangeUnknown
		}
		out = append(out, FileEntity{Path: p, URL: u, ChangeType: ch,
			LinesAdded: clampInt32(f.LinesAdded), LinesRemoved: clampInt32(f.LinesRemoved)})
	}
	slices.SortStableFunc(out, func(a, b FileEntity) int { return strings.Compare(a.Path, b.Path) })
	if len(out) > MaxFiles {
		out = out[:MaxFiles]
	}
	return out
}

func (b *builder) branch(in *Branch) *BranchEntity {
	if in == nil || in.Name == "" {
		return nil
	}
	name := strings.ToValidUTF8(in.Name, "\uFFFD")
	keys := b.keysOf("the branch name", name)
	if len(keys) == 0 {
		return nil
	}
	if utf16Len(name) > MaxBranchName || strings.ContainsFunc(name, isSpaceOrControl) {
		b.warn("branch left out: its name is longer than %d characters or holds white space", MaxBranchName)
		return nil
	}
	if !validHash(in.Head.Hash) {
		b.warn("branch %s left out: no head commit (full sha)", strconv.Quote(clipUnits(name, 80)))
		return nil
	}
	headKeys := b.keysOf("the branch head", in.Head.Message)
	if len(headKeys) == 0 {
		headKeys = keys
	}
	head, _ := b.commit(in.Head, headKeys)
	e := &BranchEntity{
		ID:               BranchID(name),
		Name:             name,
		IssueKeys:        keys,
		UpdateSequenceID: b.seq,
		URL:              b.u.branch(name),
		LastCommit:       head,
	}
	if utf16Len(e.URL) > MaxURL {
		b.warn("branch left out: its URL would be longer than %d characters", MaxURL)
		return nil
	}
	if u := b.u.createPullRequest(name); utf16Len(u) <= MaxURL {
		e.CreatePullRequestURL = u
	}
	return e
}

func (b *builder) pullRequest(in *PullRequest, br *Branch) *PullRequestEntity {
	if in == nil {
		return nil
	}
	if in.Number <= 0 {
		b.warn("pull request left out: no number")
		return nil
	}
	src := strings.ToValidUTF8(in.SourceBranch, "\uFFFD")
	if src == "" && br != nil {
		src = strings.ToValidUTF8(br.Name, "\uFFFD")
	}
	title := oneLine(strings.ToValidUTF8(in.Title, "\uFFFD"))
	texts := append([]string{title, src}, in.CommitMessages...)
	keys := b.keysOf("the pull request", texts...)
	if len(keys) == 0 {
		return nil
	}
	display := b.u.pullRequestDisplayID(in.Number)
	if src == "" {
		b.warn("pull request %s left out: no source branch", display)
		return nil
	}
	if title == "" {
		title = src
	}
	if utf16Len(title) > MaxTitle {
		title = clipUnits(title, MaxTitle)
		b.warn("pull request %s: title cut to %s characters", display, "1,024")
	}
	status := in.State
	switch status {
	case StatusOpen, StatusMerged, StatusDeclined:
	case "":
		status = StatusOpen
	default:
		status = "UNKNOWN"
	}
	who := in.Author
	if who.Name == "" && who.Email == "" && br != nil {
		who = Person{Name: br.Head.AuthorName, Email: br.Head.AuthorEmail}
	}
	last := in.LastUpdate
	if last.IsZero() {
		last = b.now
	}
	e := &PullRequestEntity{
		ID:               strconv.FormatInt(in.Number, 10),
		DisplayID:        display,
		IssueKeys:        keys,
		UpdateSequenceID: b.seq,
		Status:           status,
		Title:            title,
		Author:           author(who),
		CommentCount:     clampInt32(in.CommentCount),
		SourceBranch:     clipUnits(src, MaxPRBranchName),
		LastUpdate:       last.UTC().Format(time.RFC3339),
		URL:              b.u.pullRequest(in.Number),
	}
	if e.SourceBranch != src {
		b.warn("pull request %s: source branch name cut to %d characters", display, MaxPRBranchName)
	}
	if u := b.u.branch(src); !strings.ContainsFunc(src, isSpaceOrControl) && utf16Len(u) <= MaxURL {
		e.SourceBranchURL = u
	}
	if dst := strings.ToValidUTF8(in.DestinationBranch, "\uFFFD"); dst != "" {
		e.DestinationBranch = clipUnits(dst, MaxPRBranchName)
		if u := b.u.branch(dst); !strings.ContainsFunc(dst, isSpaceOrControl) && utf16Len(u) <= MaxURL {
			e.DestinationBranchURL = u
		}
	}
	for _, r := range in.Reviewers {
		if len(e.Reviewers) == MaxReviewers {
			break
		}
		rv := ReviewerEntity{Name: clipUnits(oneLine(r.Name), MaxName), ApprovalStatus: "UNAPPROVED"}
		if em := strings.TrimSpace(r.Email); utf16Len(em) <= MaxReviewerEmail && !strings.ContainsFunc(em, isSpaceOrControl) {
			rv.Email = em
		}
		if r.Approved {
			rv.ApprovalStatus = "APPROVED"
		}
		if rv.Name == "" && rv.Email == "" {
			continue
		}
		e.Reviewers = append(e.Reviewers, rv)
	}
	return e
}

// DeleteBranch names the branch entity a deleted branch was sent as (the
// GitHub delete event): the repository's id, as Build derives it, and the
// branch's id.
func DeleteBranch(repo Repo, forge Forge, branchName string) (repositoryID, branchID string, err error) {
	if forge == "" {
		forge = InferForge("", repo.WebURL)
	}
	repositoryID = repo.ID
	if repositoryID == "" {
		web, err := NormalizeURL(forge, repo.WebURL)
		if err != nil {
			return "", "", err
		}
		repositoryID = RepositoryID(web)
	} else if !validID(repositoryID) {
		return "", "", fmt.Errorf("repository id %q: use only letters, digits and . _ ~ -, at most %d characters", clipBytes(repositoryID, 100), MaxIDLength)
	}
	if branchName == "" {
		return "", "", errors.New("devinfo: no branch name")
	}
	return repositoryID, BranchID(strings.ToValidUTF8(branchName, "\uFFFD")), nil
}

// ---- text helpers ----

// uniq drops repeated strings, keeping the first of each.
func uniq(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// utf16Len is the length of s in UTF-16 code units, as Java counts.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// clipUnits cuts s (valid UTF-8) to at most n UTF-16 code units, at a rune
// boundary.
func clipUnits(s string, n int) string {
	units := 0
	for i, r := range s {
		units += utf16.RuneLen(r)
		if units > n {
			return s[:i]
		}
	}
	return s
}

// clipBytes cuts s to at most n bytes at a rune boundary, for messages.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

func isSpaceOrControl(r rune) bool {
	return isControl(r) || r == ' ' || r == '\u00a0' || r == '\u2028' || r == '\u2029' || r == '\ufeff'
}

// oneLine makes s valid UTF-8 on one line, without control characters,
// white space runs as one space.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return isSpaceOrControl(r) || r == '\t' }), " ")
}

func clampInt32(n int) int {
	return min(max(n, 0), math.MaxInt32)
}

func lastSegment(web string) string {
	p := web
	if i := strings.Index(p, "://"); i >= 0 {
		p = p[i+3:]
	}
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	return p
}
