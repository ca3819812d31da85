package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/jira-cicd/jira-cicd/internal/devinfo"
)

// The Development Information API (issue 11) through the same 2LO token and
// cloud id as builds and deployments: POST
// {api_url}/jira/devinfo/0.1/cloud/{cloudId}/bulk (the spec's
// /rest/devinfo/0.10/bulk) and DELETE of one branch.

// What a devinfo request was for, in messages.
const (
	OpSubmitDevInfo = "development information submission"
	OpDeleteBranch  = "development information branch deletion"
)

// devinfoPermissionHint is what a 403 on the devinfo API means for 2LO.
const devinfoPermissionHint = `The credential may not send development information: give it the "Development information" permission in Jira's OAuth credentials`

// Entity types in a DevInfoFailure (the first three as the DELETE path
// names them).
const (
	EntityCommit      = "commit"
	EntityBranch      = "branch"
	EntityPullRequest = "pull_request"
	EntityRepository  = "repository"
)

// maxDevInfoFailures bounds the failures a result keeps, maxUnknownKeys the
// unknown keys.
const (
	maxDevInfoFailures = 100
	maxUnknownKeys     = 500
)

// DevInfoResult is Jira's 202 answer to a devinfo submission, reduced to
// what the step reports.
type DevInfoResult struct {
	// Accepted counts the entities Jira accepted (commits, branches and
	// pull requests, over all repositories).
	Accepted int
	// Failed are the entities (or repositories) Jira refused, with its
	// messages; at most 100, FailedMore counts the others.
	Failed     []DevInfoFailure
	FailedMore int
	// UnknownIssueKeys are keys Jira does not know; entities linked only to
	// those are not stored.
	UnknownIssueKeys []string
}

// DevInfoFailure is one entity Jira refused.
type DevInfoFailure struct {
	Repository string
	EntityType string // EntityCommit, EntityBranch, EntityPullRequest or EntityRepository
	ID         string // the entity's id ("" for a repository's own errors)
	Messages   []string
}

func (f DevInfoFailure) String() string {
	what := f.EntityType
	if f.ID != "" {
		what += " " + f.ID
	}
	return fmt.Sprintf("%s in repository %s: %s", what, f.Repository, strings.Join(f.Messages, "; "))
}

// SubmitDevInfo sends one development information body and returns Jira's
// answer. The body is encoded once, so a retry re-sends the same bytes (the
// same updateSequenceId), which Jira's ordering makes idempotent.
func (c *Client) SubmitDevInfo(ctx context.Context, body devinfo.Request) (DevInfoResult, error) {
	if err := c.Prepare(ctx); err != nil {
		return DevInfoResult{}, err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return DevInfoResult{}, &Error{Op: OpSubmitDevInfo, Err: err}
	}
	u := fmt.Sprintf("%s/jira/devinfo/0.1/cloud/%s/bulk", strings.TrimRight(c.cfg.APIURL, "/"), url.PathEscape(c.cloudID))
	var raw json.RawMessage
	if err := c.do(ctx, OpSubmitDevInfo, http.MethodPost, u, b, true, http.StatusAccepted, &raw); err != nil {
		return DevInfoResult{}, devinfoHint(err)
	}
	if !isAnswer("devinfo", raw) {
		return DevInfoResult{}, &Error{Op: OpSubmitDevInfo, Status: http.StatusAccepted,
			Detail: "the answer names no accepted or failed development information, so it is not Jira's",
			Hint:   notJira(OpSubmitDevInfo)}
	}
	res, err := decodeDevInfoResult([]byte(c.redact(string(raw))))
	if err != nil {
		return DevInfoResult{}, redactError(&Error{Op: OpSubmitDevInfo, Status: http.StatusAccepted, Err: err}, c.redact)
	}
	for i := range res.Failed {
		for j := range res.Failed[i].Messages {
			res.Failed[i].Messages[j] = c.redact(res.Failed[i].Messages[j])
		}
	}
	return res, nil
}

// DeleteBranch asks Jira to remove a branch entity (devinfo.DeleteBranch
// gives both ids). updateSequenceID > 0 is sent as _updateSequenceId: only
// data stored with a lower or equal sequence id is removed, so a branch
// pushed again after this run's time survives.
func (c *Client) DeleteBranch(ctx context.Context, repositoryID, branchID string, updateSequenceID int64) error {
	if err := c.Prepare(ctx); err != nil {
		return err
	}
	u := fmt.Sprintf("%s/jira/devinfo/0.1/cloud/%s/repository/%s/branch/%s", strings.TrimRight(c.cfg.APIURL, "/"),
		url.PathEscape(c.cloudID), url.PathEscape(repositoryID), url.PathEscape(branchID))
	if updateSequenceID > 0 {
		u += "?" + url.Values{"_updateSequenceId": {strconv.FormatInt(updateSequenceID, 10)}}.Encode()
	}
	return devinfoHint(c.do(ctx, OpDeleteBranch, http.MethodDelete, u, nil, true, http.StatusAccepted, nil))
}

// devinfoHint gives a devinfo error the hints that differ from builds':
// the permission a 403 wants, and what to cut on a 413.
func devinfoHint(err error) error {
	var je *Error
	if !errors.As(err, &je) {
		return err
	}
	switch je.Status {
	case http.StatusForbidden:
		je.Hint = devinfoPermissionHint
	case http.StatusRequestEntityTooLarge:
		je.Hint = "The development information is larger than Jira takes: send fewer commits (commits_since, max_commits)"
	case http.StatusBadRequest:
		je.Hint = "Jira refused the development information: check the fields its messages name"
	}
	return err
}

type devinfoEntityIDs struct {
	Commits      []string `json:"commits"`
	Branches     []string `json:"branches"`
	PullRequests []string `json:"pullRequests"`
}

type devinfoEntityError struct {
	ID            string         `json:"id"`
	ErrorMessages []ErrorMessage `json:"errorMessages"`
}

type devinfoRepositoryErrors struct {
	ErrorMessages []ErrorMessage       `json:"errorMessages"`
	Commits       []devinfoEntityError `json:"commits"`
	Branches      []devinfoEntityError `json:"branches"`
	PullRequests  []devinfoEntityError `json:"pullRequests"`
}

type devinfoResponse struct {
	Accepted         map[string]devinfoEntityIDs        `json:"acceptedDevinfoEntities"`
	Failed           map[string]devinfoRepositoryErrors `json:"failedDevinfoEntities"`
	UnknownIssueKeys []string                           `json:"unknownIssueKeys"`
}

// decodeDevInfoResult reads the spec's StoreDevinfoResult. An empty answer
// is an accepted submission; anything but a JSON object is an error.
// Failures come sorted by repository, then as the answer lists them; each
// message is one line, cut to length.
func decodeDevInfoResult(raw []byte) (DevInfoResult, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return DevInfoResult{}, nil
	}
	if raw[0] != '{' {
		return DevInfoResult{}, errors.New("unreadable answer: not a JSON object")
	}
	var out devinfoResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return DevInfoResult{}, fmt.Errorf("unreadable answer: %w", err)
	}
	var res DevInfoResult
	for _, ids := range out.Accepted {
		res.Accepted += len(ids.Commits) + len(ids.Branches) + len(ids.PullRequests)
	}
	repos := make([]string, 0, len(out.Failed))
	for r := range out.Failed {
		repos = append(repos, r)
	}
	sort.Strings(repos)
	add := func(f DevInfoFailure, msgs []ErrorMessage) {
		if len(res.Failed) == maxDevInfoFailures {
			res.FailedMore++
			return
		}
		f.Messages = cleanMessages(messageTexts(msgs), nil) // raw was redacted before decoding
		if len(f.Messages) == 0 {
			f.Messages = []string{"refused without a reason"}
		}
		f.ID = clip(oneLine(f.ID))
		f.Repository = clip(oneLine(f.Repository))
		res.Failed = append(res.Failed, f)
	}
	for _, r := range repos {
		fe := out.Failed[r]
		if len(fe.ErrorMessages) > 0 {
			add(DevInfoFailure{Repository: r, EntityType: EntityRepository}, fe.ErrorMessages)
		}
		for _, group := range []struct {
			kind string
			errs []devinfoEntityError
		}{{EntityCommit, fe.Commits}, {EntityBranch, fe.Branches}, {EntityPullRequest, fe.PullRequests}} {
			for _, e := range group.errs {
				add(DevInfoFailure{Repository: r, EntityType: group.kind, ID: e.ID}, e.ErrorMessages)
			}
		}
	}
	for _, k := range out.UnknownIssueKeys {
		if len(res.UnknownIssueKeys) == maxUnknownKeys {
			break
		}
		res.UnknownIssueKeys = append(res.UnknownIssueKeys, clip(oneLine(k)))
	}
	return res, nil
}

func messageTexts(ms []ErrorMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Message
	}
	return out
}
