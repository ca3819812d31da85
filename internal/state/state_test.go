package state

import (
	"errors"
	"strings"
	"testing"
)

func TestMap(t *testing.T) {
	tests := []struct {
		word       string
		deployment bool
		want       string
	}{
		{"success", false, Successful}, {"SUCCESS", false, Successful}, {" failure ", false, Failed},
		{"cancelled", false, Cancelled}, {"canceled", false, Cancelled}, {"failed", false, Failed},
		{"error", false, Failed}, {"killed", false, Failed}, {"running", false, InProgress},
		{"pending", false, Pending}, {"skipped", false, Cancelled}, {"aborted", false, Cancelled},
		{"in_progress", false, InProgress}, {"unknown", false, Unknown},
		{"rolled_back", true, RolledBack}, {"successful", true, Successful},
		// Drone and Woodpecker's other statuses.
		{"blocked", false, Pending}, {"declined", false, Cancelled}, {"waiting_on_dependencies", false, Pending},
		{"created", false, Pending},
		// GitLab's job and pipeline statuses.
		{"waiting_for_resource", false, Pending}, {"preparing", false, Pending}, {"canceling", false, Cancelled},
		{"manual", false, Pending}, {"scheduled", false, Pending}, {"waiting_for_callback", false, Pending},
	}
	for _, tt := range tests {
		got, err := Map(tt.word, tt.deployment)
		if err != nil || got != tt.want {
			t.Errorf("Map(%q, %v) = %q, %v; want %q", tt.word, tt.deployment, got, err, tt.want)
		}
	}
}

func TestMapRejects(t *testing.T) {
	_, err := Map("grumpy", false)
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "success") || !strings.Contains(err.Error(), "in_progress") {
		t.Fatalf("Map(grumpy) error = %v; want a *Error listing accepted words", err)
	}
	if _, err := Map("rolled_back", false); err == nil || !strings.Contains(err.Error(), "deployment state") {
		t.Fatalf("rolled_back for a build: err = %v", err)
	}
	if _, err := Map("", false); err == nil {
		t.Fatal("empty word accepted")
	}
}

func TestAcceptedCoversEveryWord(t *testing.T) {
	acc := Accepted()
	if len(acc) != len(words) {
		t.Fatalf("Accepted() has %d words, map has %d", len(acc), len(words))
	}
	for _, w := range acc {
		if !Known(w) {
			t.Errorf("Accepted() lists %q which Map rejects", w)
		}
	}
}
