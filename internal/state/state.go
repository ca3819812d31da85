// Package state maps the words CIs use for a run's outcome onto Jira's build
// and deployment states. A word it does not know is an error, never sent raw:
// Jira rejects unknown states.
package state

import (
	"fmt"
	"slices"
	"strings"
)

// Jira's states (the spec's enums).
const (
	Pending    = "pending"
	InProgress = "in_progress"
	Successful = "successful"
	Failed     = "failed"
	Cancelled  = "cancelled"
	RolledBack = "rolled_back" // deployments only
	Unknown    = "unknown"
)

// words maps every accepted word (lower case) to a Jira state. Jira's own
// states map to themselves; the rest are the words CIs report:
// GitHub job.status (success, failure, cancelled), Drone and Woodpecker
// (success, failure, error, killed, running, pending, skipped, blocked,
// declined, waiting_on_dependencies; Woodpecker also created), GitLab
// CI_JOB_STATUS (success, failed, canceled) and its other job and pipeline
// statuses (created, waiting_for_resource, preparing, pending, running,
// canceling, skipped, manual, scheduled, waiting_for_callback), Bitbucket's
// exit code is turned into success/failure by its adapter, Jenkins-like words
// (aborted, unstable, not_built) for scripted use.
// It is a table, not a map: a map literal is built by code at every start
// (6.7 µs of a ~3.5 ms run, perf); this array is data the linker lays out.
var words = [...]struct{ word, state string }{
	{Pending, Pending}, {InProgress, InProgress}, {Successful, Successful}, {Failed, Failed}, {Cancelled, Cancelled}, {RolledBack, RolledBack},
	{Unknown, Unknown}, {"success", Successful}, {"succeeded", Successful}, {"passed", Successful}, {"ok", Successful}, {"failure", Failed},
	{"fail", Failed}, {"error", Failed}, {"errored", Failed}, {"killed", Failed}, {"unstable", Failed}, {"timed_out", Failed},
	{"declined", Cancelled}, {"canceled", Cancelled}, {"aborted", Cancelled}, {"skipped", Cancelled}, {"not_built", Cancelled}, {"running", InProgress},
	{"started", InProgress}, {"in-progress", InProgress}, {"inprogress", InProgress}, {"queued", Pending}, {"created", Pending}, {"waiting", Pending},
	{"blocked", Pending}, {"manual", Pending}, {"scheduled", Pending}, {"preparing", Pending}, {"waiting_on_dependencies", Pending}, {"waiting_for_resource", Pending},
	{"waiting_for_callback", Pending}, {"canceling", Cancelled}, {"rolled-back", RolledBack}, {"rollback", RolledBack},
}

// Error says a word is not one this tool can map.
type Error struct{ Word string }

func (e *Error) Error() string {
	return fmt.Sprintf("%q is not a known state; accepted: %s", e.Word, strings.Join(Accepted(), ", "))
}

// Map turns a word into a Jira state. deployment allows rolled_back, which
// builds do not have.
func Map(word string, deployment bool) (string, error) {
	s, ok := lookup(word)
	if !ok {
		return "", &Error{Word: word}
	}
	if s == RolledBack && !deployment {
		return "", fmt.Errorf("%q (rolled_back) is a deployment state; builds accept: %s", word,
			strings.Join([]string{Pending, InProgress, Successful, Failed, Cancelled, Unknown}, ", "))
	}
	return s, nil
}

func lookup(word string) (string, bool) {
	w := strings.ToLower(strings.TrimSpace(word))
	for _, e := range words {
		if e.word == w {
			return e.state, true
		}
	}
	return "", false
}

// Known reports whether word maps to some state.
func Known(word string) bool {
	_, ok := lookup(word)
	return ok
}

// Accepted lists every word Map accepts, Jira's states first.
func Accepted() []string {
	jira := []string{Pending, InProgress, Successful, Failed, Cancelled, RolledBack, Unknown}
	var rest []string
	for _, w := range words {
		if !slices.Contains(jira, w.word) {
			rest = append(rest, w.word)
		}
	}
	slices.Sort(rest)
	return append(jira, rest...)
}
