package settings

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/netrule"
)

// FuzzLoad gives one setting any value through any source, with any extra
// flags: Load never panics; an error is Errors naming known settings; no
// error repeats the client secret; settings Load accepts are usable.
func FuzzLoad(f *testing.F) {
	rowOf := map[string]uint{}
	for i, r := range Table() {
		rowOf[r.Name] = uint(i)
	}
	seeds := []struct {
		name   string
		source uint8
		value  string
		args   string
	}{
		{"timeout", 3, "10", ""},
		{"timeout", 0, "1h30m", ""},
		{"issue_keys", 1, `["ABC-1", 2, true, null]`, ""},
		{"issue_keys", 2, "ABC-1, DEF-2\nGHI-3", ""},
		{"site", 3, "http://user:pw@acme.atlassian.net", ""},
		{"site", 0, "acme", ""},
		{"api_url", 1, "http://[::1]:8080/", ""},
		{"client_secret", 3, "  spaced secret  ", ""},
		{"client_secret", 0, "", "--client-secret\n"},
		{"type", 3, "Deployment", "--gating"},
		{"gating", 3, "true", "--type=build"},
		{"max_commits", 2, "99999999999999999999", ""},
		{"build_number", 1, "-0", ""},
		{"dry_run", 0, "true", "--help"},
		{"debug", 3, "true", "--version"},
		{"url", 3, "https://ci.example.com/\x00", "stray"},
		{"state", 1, "FAILURE", "--no-such-flag"},
		{"project_keys", 3, "abc,_X,Ä", ""},
		{"cloud_id", 3, "%zz", ""},
		{"cloud_id", 1, "..", ""},
		{"cloud_id", 2, "0B6C5D1E-7F2A-4C3B-9D8E-1A2B3C4D5E6F", ""},
		{"api_url", 3, "https://api.example.com:99999/x?y#z", ""},
		{"site", 2, "acme.atlassian.net:0", ""},
		{"gating_interval", 3, "1ns", ""},
		{"timeout", 1, "999999us", ""},
		{"service_ids", 3, strings.Repeat("é", 300), ""},
	}
	for _, s := range seeds {
		f.Add(rowOf[s.name], s.source, s.value, s.args, "9f8e7d")
	}
	f.Fuzz(func(t *testing.T, row uint, source uint8, value, args, secretPart string) {
		rows := Table()
		r := rows[row%uint(len(rows))]
		secret := "Zq9-canary-" + secretPart
		environ := []string{"JIRA_CLIENT_ID=id", "JIRA_CLIENT_SECRET=" + secret, "JIRA_SITE=acme.atlassian.net"}
		var argv []string
		if args != "" {
			argv = strings.Split(args, "\n")
		}
		switch source % 4 {
		case 0:
			argv = append(argv, r.Flag()+"="+value)
		case 1:
			environ = append(environ, "INPUT_"+strings.ToUpper(r.Name)+"="+value)
		case 2:
			environ = append(environ, "PLUGIN_"+strings.ToUpper(r.Name)+"="+value)
		case 3:
			environ = append(environ, "JIRA_"+strings.ToUpper(r.Name)+"="+value)
		}
		s, err := Load(argv, environ)

		// The secret in effect: the fuzzed value, when it is the secret.
		effective := strings.TrimSpace(secret)
		others := args + "\x00" + value
		if s != nil && s.ClientSecret.Value() != "" {
			effective = s.ClientSecret.Value()
			if r.Name == "client_secret" {
				others = args
			}
		}
		if err != nil && len(effective) >= 6 && !strings.Contains(others, effective) && strings.Contains(err.Error(), effective) {
			t.Fatalf("the error repeats the secret %q: %v", effective, err)
		}

		switch {
		case err == nil:
		case errors.Is(err, ErrHelp) || errors.Is(err, ErrVersion):
			return
		default:
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("err %T %v, want Errors", err, err)
			}
			for _, e := range errs {
				if e.Setting != "flags" && e.Setting != "settings" && !known(e.Setting) {
					t.Fatalf("error names %q, no setting", e.Setting)
				}
				if e.Msg == "" || !strings.HasPrefix(e.Error(), "setting "+e.Setting+": ") {
					t.Fatalf("error %q", e.Error())
				}
			}
			return
		}
		// Accepted settings are usable.
		if s.Timeout < time.Second || s.GatingInterval < time.Second || s.GatingTimeout <= 0 || s.MaxCommits < 1 {
			t.Fatalf("accepted %+v", s)
		}
		if s.CloudID != "" && !ValidCloudID(s.CloudID) {
			t.Fatalf("accepted cloud_id %q", s.CloudID)
		}
		for _, raw := range []string{s.APIURL, s.Site} {
			if raw == "" {
				continue
			}
			u, err := url.Parse(raw)
			if err != nil || u.User != nil || !(u.Scheme == "https" || u.Scheme == "http" && netrule.IsLoopback(u.Hostname())) {
				t.Fatalf("accepted URL %q", raw)
			}
			if u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "#") {
				t.Fatalf("accepted URL %q with a query or fragment", raw)
			}
			if p := u.Port(); p != "" {
				if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
					t.Fatalf("accepted URL %q with port %q", raw, p)
				}
			}
		}
		if !s.DryRun && (strings.TrimSpace(s.ClientID) == "" || s.ClientSecret == "") {
			t.Fatalf("accepted without credentials: %+v", s)
		}
	})
}

func known(name string) bool {
	return slices.ContainsFunc(Table(), func(r Row) bool { return r.Name == name })
}
