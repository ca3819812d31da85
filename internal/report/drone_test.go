package report

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const secret = "canary-S3CRET-4242"

func sentOutcome() Outcome {
	return Outcome{
		Status: "sent", Kind: "deployment", State: "successful", DisplayName: "acme/app #16",
		URL: "https://cloud.drone.io/acme/app/16", PipelineID: "acme/app/default",
		EnvironmentID: "production", EnvironmentName: "Production",
		Keys: []string{"ABC-1", "DEF-2"}, UnknownKeys: []string{"DEF-2"}, Site: "https://acme.atlassian.net",
	}
}

// cardLine is how Drone's runner finds a card in a step's log
// (drone/runner-go livelog extractor).
var cardLine = regexp.MustCompile("\x1b]1338;(.*?)\x1b]0m")

func decodeCard(t *testing.T, log string) droneCard {
	t.Helper()
	m := cardLine.FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no card in the log:\n%q", log)
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	var c droneCard
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("card is not JSON: %v\n%s", err, raw)
	}
	return c
}

func TestDroneCardFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "card.json")
	var out, errb bytes.Buffer
	r := New(Targets{CI: "drone", DroneCardPath: path}, &out, &errb, false)
	if err := r.Finish(sentOutcome()); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c droneCard
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	want := droneCard{Schema: DroneCardSchema, Data: droneData{
		Title: "Jira deployment: sent to Jira", Status: "sent", Kind: "deployment", Record: "acme/app #16",
		URL: "https://cloud.drone.io/acme/app/16", State: "successful", Pipeline: "acme/app/default",
		Environment: "Production (production)", IssueList: "ABC-1, DEF-2", Unknown: "DEF-2",
		Issues: []droneLink{{"ABC-1", "https://acme.atlassian.net/browse/ABC-1"}, {"DEF-2", "https://acme.atlassian.net/browse/DEF-2"}},
	}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("card\n got %+v\nwant %+v", c, want)
	}
	if out.Len() != 0 {
		t.Errorf("a card file must not also go to stdout: %q", out.String())
	}
	if !strings.Contains(errb.String(), "jira-cicd: sent deployment to Production") {
		t.Errorf("no summary line: %q", errb.String())
	}
}

// Drone's runners set DRONE_CARD_PATH=/dev/stdout and read the card from the
// log.
func TestDroneCardOnTheLog(t *testing.T) {
	for _, path := range []string{"/dev/stdout", "/dev/stderr"} {
		var out, errb bytes.Buffer
		r := New(Targets{CI: "drone", DroneCardPath: path}, &out, &errb, false)
		o := Outcome{Status: "skipped", Kind: "build", Message: "no Jira issue keys found", Site: ""}
		if err := r.Finish(o); err != nil {
			t.Fatal(err)
		}
		log := out.String()
		if path == "/dev/stderr" {
			log = errb.String()
		}
		c := decodeCard(t, log)
		if c.Schema != DroneCardSchema || c.Data.Title != "Jira build: nothing sent" || c.Data.Message != "no Jira issue keys found" ||
			c.Data.IssueList != "none" || c.Data.Issues == nil || len(c.Data.Issues) != 0 || c.Data.Environment != "" {
			t.Errorf("%s: card %+v", path, c)
		}
		// The whole card is one line of its own.
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, "\x1b]1338;") && !cardLine.MatchString(line) {
				t.Errorf("%s: card split across lines: %q", path, line)
			}
		}
	}
}

func TestDroneCardIsRedacted(t *testing.T) {
	var out, errb bytes.Buffer
	r := New(Targets{CI: "drone", DroneCardPath: "/dev/stdout"}, &out, &errb, false)
	r.Mask(secret)
	o := sentOutcome()
	o.Status, o.Message, o.DisplayName = "failed", "Jira said: bad token "+secret, "build "+secret
	if err := r.Finish(o); err != nil {
		t.Fatal(err)
	}
	c := decodeCard(t, out.String())
	raw, _ := json.Marshal(c)
	if strings.Contains(string(raw), secret) || !strings.Contains(c.Data.Message, `\*\*\*`) || c.Data.Record != `build \*\*\*` {
		t.Errorf("secret in the card: %s", raw)
	}
	if strings.Contains(out.String()+errb.String(), secret) {
		t.Error("secret on the log")
	}
}

func TestDroneCardWriteFailureIsReported(t *testing.T) {
	var out, errb bytes.Buffer
	path := filepath.Join(t.TempDir(), "missing", "card.json")
	r := New(Targets{CI: "drone", DroneCardPath: path}, &out, &errb, false)
	err := r.Finish(sentOutcome())
	if err == nil || !strings.Contains(err.Error(), "DRONE_CARD_PATH="+path) {
		t.Fatalf("err = %v", err)
	}
}

//go:embed drone-card.json
var droneCardTemplate []byte

// Every ${...} in the template binds a field the card's data has: at the
// root, or inside "$data": "${issues}", an issue's.
func TestDroneCardTemplateMatchesTheData(t *testing.T) {
	var tmpl any
	if err := json.Unmarshal(droneCardTemplate, &tmpl); err != nil {
		t.Fatalf("drone-card.json: %v", err)
	}
	root := jsonFields(reflect.TypeOf(droneData{}))
	item := jsonFields(reflect.TypeOf(droneLink{}))
	used := map[string]bool{}
	var walk func(v any, scope map[string]bool)
	walk = func(v any, scope map[string]bool) {
		switch v := v.(type) {
		case map[string]any:
			if d, ok := v["$data"].(string); ok {
				if d != "${issues}" {
					t.Errorf("unexpected $data %q", d)
				}
				used["issues"] = true
				scope = item
			}
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if k != "$data" {
					walk(v[k], scope)
				}
			}
		case []any:
			for _, e := range v {
				walk(e, scope)
			}
		case string:
			for _, expr := range templateExpr.FindAllStringSubmatch(v, -1) {
				for _, id := range identifiers(expr[1]) {
					if !scope[id] {
						t.Errorf("template binds ${%s}: %q is not a field of the card's data", expr[1], id)
					}
					used[id] = true
				}
			}
		}
	}
	walk(tmpl, root)
	for _, want := range []string{"title", "message", "record", "state", "pipeline", "environment", "issueList", "issues", "unknown", "key", "url"} {
		if !used[want] {
			t.Errorf("the template never shows %q", want)
		}
	}
	if m := tmpl.(map[string]any); m["type"] != "AdaptiveCard" || m["version"] == nil {
		t.Errorf("not an adaptive card: %v", m["type"])
	}
}

var (
	templateExpr = regexp.MustCompile(`\$\{([^}]*)\}`)
	quoted       = regexp.MustCompile(`'[^']*'`)
	identifier   = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
)

func identifiers(expr string) []string {
	return identifier.FindAllString(quoted.ReplaceAllString(expr, ""), -1)
}

func jsonFields(t reflect.Type) map[string]bool {
	m := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = true
	}
	return m
}
