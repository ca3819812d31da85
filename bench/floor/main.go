// Command floor is the benchmark's floor: the least a Go program can do to
// send one build to Jira. It makes the step's three requests — the token and
// tenant_info at once, then the bulk submission of a body read from a file —
// with net/http and encoding/json from the standard library and nothing
// else: no settings, no CI context, no repository, no retries, no report.
// bench/run.sh holds jira-cicd to it (wall time and peak RSS, as ratios), so
// that whatever the step links and does at start beyond this shows up as a
// cost.
//
//	floor -api URL -site URL -client-id ID -client-secret SECRET -body FILE [-token-json]
//
// -token-json sends the token request as JSON instead of a form; the
// benchmark passes it when the step itself does, so both send the same
// bytes.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	api := flag.String("api", "", "base URL of the token endpoint and of the Builds API")
	site := flag.String("site", "", "base URL of the Jira site (tenant_info)")
	id := flag.String("client-id", "", "OAuth client id")
	secret := flag.String("client-secret", "", "OAuth client secret")
	bodyFile := flag.String("body", "", "file holding the builds body to send")
	tokenJSON := flag.Bool("token-json", false, "send the token request as JSON rather than a form")
	flag.Parse()
	if err := run(*api, *site, *id, *secret, *bodyFile, *tokenJSON); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(api, site, id, secret, bodyFile string, tokenJSON bool) error {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 60 * time.Second}

	type tokenAnswer struct {
		token string
		err   error
	}
	tokc := make(chan tokenAnswer, 1)
	go func() {
		var req *http.Request
		var err error
		if tokenJSON {
			b, _ := json.Marshal(map[string]string{"audience": "api.atlassian.com", "grant_type": "client_credentials",
				"client_id": id, "client_secret": secret})
			req, err = http.NewRequest(http.MethodPost, api+"/oauth/token", bytes.NewReader(b))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
		} else {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret},
				"audience": {"api.atlassian.com"}}
			req, err = http.NewRequest(http.MethodPost, api+"/oauth/token", strings.NewReader(form.Encode()))
			if err == nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
		}
		if err != nil {
			tokc <- tokenAnswer{err: err}
			return
		}
		var t struct {
			AccessToken string `json:"access_token"`
		}
		err = do(client, req, http.StatusOK, &t)
		tokc <- tokenAnswer{t.AccessToken, err}
	}()

	var tenant struct {
		CloudID string `json:"cloudId"`
	}
	req, err := http.NewRequest(http.MethodGet, site+"/_edge/tenant_info", nil)
	if err != nil {
		return err
	}
	tenErr := do(client, req, http.StatusOK, &tenant)
	tok := <-tokc
	if err := errors.Join(tok.err, tenErr); err != nil {
		return err
	}

	req, err = http.NewRequest(http.MethodPost, api+"/jira/builds/0.1/cloud/"+url.PathEscape(tenant.CloudID)+"/bulk", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	var result struct {
		AcceptedBuilds []json.RawMessage `json:"acceptedBuilds"`
	}
	if err := do(client, req, http.StatusAccepted, &result); err != nil {
		return err
	}
	if len(result.AcceptedBuilds) == 0 {
		return errors.New("the build was not accepted")
	}
	return nil
}

// do sends req, wants the status want and decodes the JSON answer into v.
func do(client *http.Client, req *http.Request, want int, v any) error {
	req.Header.Set("User-Agent", "floor")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: HTTP %d: %.200s", req.Method, req.URL.Path, resp.StatusCode, data)
	}
	return json.Unmarshal(data, v)
}
