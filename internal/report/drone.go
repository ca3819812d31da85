package report

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// DroneCardSchema is the adaptive card template Drone's UI fetches and fills
// with a card's data (the file drone-card.json beside this one).
const DroneCardSchema = "https://raw.githubusercontent.com/jira-cicd/jira-cicd/main/internal/report/drone-card.json"

// droneCard is what a step leaves at DRONE_CARD_PATH: the template's URL and
// the data it binds (drone-go's CardInput).
type droneCard struct {
	Schema string    `json:"schema"`
	Data   droneData `json:"data"`
}

// droneData is the card's data; every ${name} in drone-card.json is one of
// these fields.
type droneData struct {
	Title       string      `json:"title"`   // "Jira build: sent to Jira"
	Message     string      `json:"message"` // why it failed or was skipped
	Status      string      `json:"status"`  // sent, skipped, dry-run, failed
	Kind        string      `json:"kind"`
	Record      string      `json:"record"`
	URL         string      `json:"url"`
	State       string      `json:"state"`
	Pipeline    string      `json:"pipeline"`
	Environment string      `json:"environment"`
	IssueList   string      `json:"issueList"`
	Issues      []droneLink `json:"issues"`
	Unknown     string      `json:"unknown"`
	Development string      `json:"development"` // "sent, 3 commit(s)" or ""
}

type droneLink struct {
	Key string `json:"key"`
	URL string `json:"url"`
}

// droneCardFor builds the card of an outcome that is already redacted. Its
// texts are shown by Adaptive Card TextBlocks and FactSets, which render
// Markdown: every value is inert Markdown text (md), and links are http(s)
// only (safeURL).
func droneCardFor(o Outcome) droneCard {
	d := droneData{
		Title:       fmt.Sprintf("Jira %s: %s", md(cmp.Or(o.Kind, "record")), statusTitle(o.Status)),
		Message:     md(o.Message),
		Status:      md(o.Status),
		Kind:        md(o.Kind),
		Record:      md(o.DisplayName),
		URL:         safeURL(o.URL),
		State:       md(o.State),
		Pipeline:    md(o.PipelineID),
		Issues:      []droneLink{},
		Development: DevInfoSummary(o),
	}
	if o.Kind == "deployment" && o.EnvironmentName != "" {
		d.Environment = md(fmt.Sprintf("%s (%s)", o.EnvironmentName, o.EnvironmentID))
	}
	keys := make([]string, len(o.Keys))
	for i, k := range o.Keys {
		keys[i] = md(k)
		d.Issues = append(d.Issues, droneLink{Key: keys[i], URL: safeURL(o.IssueLink(k))})
	}
	unknown := make([]string, len(o.UnknownKeys))
	for i, k := range o.UnknownKeys {
		unknown[i] = md(k)
	}
	d.Unknown = strings.Join(unknown, ", ")
	d.IssueList = strings.Join(keys, ", ")
	if d.IssueList == "" {
		d.IssueList = "none"
	}
	return droneCard{Schema: DroneCardSchema, Data: d}
}

// writeDroneCard writes the card where Drone asked. Drone's runners set
// DRONE_CARD_PATH=/dev/stdout and read the card from the step's log, as one
// line: ESC]1338;<base64 of the JSON>ESC]0m. Any other path gets the JSON.
func (r *Reporter) writeDroneCard(o Outcome) error {
	card, err := json.Marshal(droneCardFor(r.redacted(o)))
	if err != nil {
		return err
	}
	path := r.targets.DroneCardPath
	var w io.Writer
	switch path {
	case "/dev/stdout":
		w = r.stdout
	case "/dev/stderr":
		w = r.stderr
	default:
		if err := os.WriteFile(path, card, 0o644); err != nil {
			return fmt.Errorf("the Drone card (DRONE_CARD_PATH=%s): %w", path, err)
		}
		return nil
	}
	// One Write: the runner recognises the card by the prefix of a write.
	line := "\x1b]1338;" + base64.StdEncoding.EncodeToString(card) + "\x1b]0m\n"
	if _, err := io.WriteString(w, line); err != nil {
		return fmt.Errorf("the Drone card (DRONE_CARD_PATH=%s): %w", path, err)
	}
	return nil
}

func statusTitle(status string) string {
	switch status {
	case "sent":
		return "sent to Jira"
	case "dry-run":
		return "dry run (nothing sent)"
	case "skipped":
		return "nothing sent"
	}
	return "not sent"
}
