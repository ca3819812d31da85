package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// PipeResultFile is the file written in BITBUCKET_PIPE_STORAGE_DIR, for the
// steps and pipes that follow (Bitbucket pipes have no outputs).
const PipeResultFile = "jira-cicd.json"

// pipeResult is the outcome as the result file holds it; names follow the
// step's outputs.
type pipeResult struct {
	Status           string     `json:"status"` // sent, skipped, dry-run, failed
	Sent             bool       `json:"sent"`
	Message          string     `json:"message,omitempty"`
	IssueKeys        []string   `json:"issue_keys"`
	UnknownIssueKeys []string   `json:"unknown_issue_keys"`
	Record           pipeRecord `json:"record"`
	CommitsScanned   int        `json:"commits_scanned"`
	TestsTotal       int64      `json:"tests_total"`
	TestsFailed      int64      `json:"tests_failed"`
	GatingStatus     string     `json:"gating_status,omitempty"`
	DevInfoSent      bool       `json:"development_info_sent"`
	CommitsSent      int        `json:"commits_sent"`
}

type pipeRecord struct {
	Type        string   `json:"type"`
	State       string   `json:"state"`
	DisplayName string   `json:"display_name"`
	URL         string   `json:"url"`
	PipelineID  string   `json:"pipeline_id"`
	Environment *pipeEnv `json:"environment,omitempty"`
}

type pipeEnv struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// pipeResultFor builds the result of an outcome that is already redacted.
func pipeResultFor(o Outcome) pipeResult {
	res := pipeResult{
		Status: o.Status, Sent: o.Sent(), Message: o.Message,
		IssueKeys: nonNil(o.Keys), UnknownIssueKeys: nonNil(o.UnknownKeys),
		Record: pipeRecord{
			Type: o.Kind, State: o.State, DisplayName: o.DisplayName, URL: o.URL, PipelineID: o.PipelineID,
		},
		CommitsScanned: o.CommitsScanned, TestsTotal: o.TestsTotal, TestsFailed: o.TestsFailed,
		GatingStatus: o.GatingStatus,
		DevInfoSent:  o.DevInfoSent, CommitsSent: o.CommitsSent,
	}
	if o.Kind == "deployment" && (o.EnvironmentID != "" || o.EnvironmentName != "") {
		res.Record.Environment = &pipeEnv{ID: o.EnvironmentID, Name: o.EnvironmentName}
	}
	return res
}

// writePipeResult writes PipeResultFile into the pipe's storage directory.
func (r *Reporter) writePipeResult(o Outcome) error {
	b, err := json.MarshalIndent(pipeResultFor(r.redacted(o)), "", "  ")
	if err != nil {
		return err
	}
	dir := r.targets.PipeStorageDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("the pipe's result (BITBUCKET_PIPE_STORAGE_DIR=%s): %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, PipeResultFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("the pipe's result (BITBUCKET_PIPE_STORAGE_DIR=%s): %w", dir, err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
