package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readPipeResult(t *testing.T, dir string) (pipeResult, string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, PipeResultFile))
	if err != nil {
		t.Fatal(err)
	}
	var res pipeResult
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	return res, string(raw)
}

func TestPipeResult(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pipe-storage")
	var out, errb bytes.Buffer
	r := New(Targets{CI: "bitbucket", PipeStorageDir: dir}, &out, &errb, false)
	o := sentOutcome()
	o.CommitsScanned, o.GatingStatus = 3, "allowed"
	if err := r.Finish(o); err != nil {
		t.Fatal(err)
	}
	got, _ := readPipeResult(t, dir)
	want := pipeResult{
		Status: "sent", Sent: true, IssueKeys: []string{"ABC-1", "DEF-2"}, UnknownIssueKeys: []string{"DEF-2"},
		Record: pipeRecord{Type: "deployment", State: "successful", DisplayName: "acme/app #16",
			URL: "https://cloud.drone.io/acme/app/16", PipelineID: "acme/app/default",
			Environment: &pipeEnv{ID: "production", Name: "Production"}},
		CommitsScanned: 3, GatingStatus: "allowed",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("result\n got %+v\nwant %+v", got, want)
	}
	if out.Len() != 0 || !strings.Contains(errb.String(), "jira-cicd: sent deployment") {
		t.Errorf("stdout %q stderr %q", out.String(), errb.String())
	}

	// A build with nothing sent: empty lists, not null; no environment.
	r = New(Targets{CI: "bitbucket", PipeStorageDir: dir}, &out, &errb, false)
	if err := r.Finish(Outcome{Status: "skipped", Kind: "build", Message: "no keys"}); err != nil {
		t.Fatal(err)
	}
	got, raw := readPipeResult(t, dir)
	if got.Sent || got.Status != "skipped" || got.Message != "no keys" || got.Record.Environment != nil ||
		!strings.Contains(raw, `"issue_keys": []`) || !strings.Contains(raw, `"unknown_issue_keys": []`) {
		t.Errorf("skipped result:\n%s", raw)
	}
}

func TestPipeResultIsRedacted(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	r := New(Targets{CI: "bitbucket", PipeStorageDir: dir}, &out, &errb, false)
	// A secret with JSON's special characters: redacting the encoded text
	// would miss it.
	const tricky = `se"cr\et-<42>`
	r.Mask(tricky)
	o := sentOutcome()
	o.Status, o.Message = "failed", "token "+tricky+" refused"
	if err := r.Finish(o); err != nil {
		t.Fatal(err)
	}
	got, raw := readPipeResult(t, dir)
	enc, _ := json.Marshal(tricky)
	if strings.Contains(raw, tricky) || strings.Contains(raw, strings.Trim(string(enc), `"`)) || got.Message != "token *** refused" {
		t.Errorf("secret in the result:\n%s", raw)
	}
}

func TestPipeResultWriteFailureIsReported(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	r := New(Targets{CI: "bitbucket", PipeStorageDir: file}, &out, &errb, false)
	if err := r.Finish(sentOutcome()); err == nil || !strings.Contains(err.Error(), "BITBUCKET_PIPE_STORAGE_DIR") {
		t.Fatalf("err = %v", err)
	}
}

// Every text field of Outcome, present and future, is redacted.
func TestRedactedCoversEveryTextField(t *testing.T) {
	r := New(Targets{}, &bytes.Buffer{}, &bytes.Buffer{}, false)
	r.Mask(secret)
	var o Outcome
	v := reflect.ValueOf(&o).Elem()
	texts := 0
	for i := 0; i < v.NumField(); i++ {
		switch f := v.Field(i); {
		case f.Kind() == reflect.String:
			f.SetString("x " + secret)
			texts++
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			f.Set(reflect.ValueOf([]string{secret, "ok"}))
			texts++
		}
	}
	red := r.redacted(o)
	if texts == 0 || strings.Contains(fmt.Sprintf("%+v", red), secret) {
		t.Fatalf("not redacted: %+v", red)
	}
	if !strings.Contains(fmt.Sprintf("%+v", o), secret) {
		t.Fatal("redacted must not change the original")
	}
}
