//go:build unix

package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
)

// fakeJira is the benchmark's Jira: the three endpoints a build submission
// uses, on loopback, strict about what a real client must send (the token
// form, a bearer token it issued, the cloud id, a JSON body) and cheap, so
// that the clients' own cost is what the benchmark measures. The tests use
// internal/jira/fakejira, which also validates bodies against the OpenAPI
// document; the benchmark validates its body with it once, before timing.
type fakeJira struct {
	URL              string
	clientID, secret string
	cloudID          string
	srv              *http.Server
	ln               net.Listener
	mu               sync.Mutex
	tokens           map[string]bool
	counts           map[string]int
	connections      int
	lastBody         []byte
	problems         []string
}

func startFakeJira(clientID, secret, cloudID string) (*fakeJira, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fakeJira{URL: "http://" + ln.Addr().String(), clientID: clientID, secret: secret, cloudID: cloudID,
		ln: ln, tokens: map[string]bool{}, counts: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", f.token)
	mux.HandleFunc("GET /_edge/tenant_info", f.tenantInfo)
	mux.HandleFunc("POST /jira/builds/0.1/cloud/{cloudId}/bulk", f.builds)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.problem("unexpected request %s %s", r.Method, r.URL.Path)
		f.count("other")
		http.NotFound(w, r)
	})
	f.srv = &http.Server{Handler: mux, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.mu.Lock()
			f.connections++
			f.mu.Unlock()
		}
	}}
	go f.srv.Serve(ln)
	return f, nil
}

func (f *fakeJira) close() { f.srv.Close() }

func (f *fakeJira) count(ep string) {
	f.mu.Lock()
	f.counts[ep]++
	f.mu.Unlock()
}

func (f *fakeJira) problem(format string, a ...any) {
	f.mu.Lock()
	f.problems = append(f.problems, fmt.Sprintf(format, a...))
	f.mu.Unlock()
}

// snapshot is what the server saw since the last reset.
type snapshot struct {
	counts      map[string]int
	connections int
	problems    []string
	lastBody    []byte
}

// take returns what happened since the last take and starts afresh.
func (f *fakeJira) take() snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := snapshot{counts: f.counts, connections: f.connections, problems: f.problems, lastBody: f.lastBody}
	f.counts, f.connections, f.problems = map[string]int{}, 0, nil
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func (f *fakeJira) token(w http.ResponseWriter, r *http.Request) {
	f.count("token")
	// JSON (what jira-cicd sends, as Atlassian documents) or a form (what
	// curl sends here): the real endpoint takes both.
	form := map[string]string{}
	switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt {
	case "application/json":
		if err := json.NewDecoder(r.Body).Decode(&form); err != nil {
			f.problem("token request: %v", err)
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
			return
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			f.problem("token request: %v", err)
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
			return
		}
		for k := range r.PostForm {
			form[k] = r.PostForm.Get(k)
		}
	default:
		f.problem("token request with Content-Type %q", r.Header.Get("Content-Type"))
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	if form["grant_type"] != "client_credentials" || form["audience"] != "api.atlassian.com" ||
		form["client_id"] != f.clientID || form["client_secret"] != f.secret {
		f.problem("token request with a wrong body (grant_type %q, audience %q, client_id %q)",
			form["grant_type"], form["audience"], form["client_id"])
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "access_denied"})
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := "bench-" + hex.EncodeToString(b)
	f.mu.Lock()
	f.tokens[tok] = true
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": 3600, "token_type": "Bearer",
		"scope": "manage:jira-data-provider"})
}

func (f *fakeJira) tenantInfo(w http.ResponseWriter, r *http.Request) {
	f.count("tenant_info")
	writeJSON(w, http.StatusOK, map[string]string{"cloudId": f.cloudID})
}

func (f *fakeJira) builds(w http.ResponseWriter, r *http.Request) {
	f.count("builds")
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	known := ok && f.tokens[tok]
	f.mu.Unlock()
	if !known {
		f.problem("builds request without a token this server issued")
		writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 401, "message": "Unauthorized"})
		return
	}
	if id := r.PathValue("cloudId"); id != f.cloudID {
		f.problem("builds request for cloud id %q", id)
		writeJSON(w, http.StatusNotFound, []map[string]string{{"message": "No Jira site with that cloud id"}})
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		f.problem("builds request with Content-Type %q", r.Header.Get("Content-Type"))
		writeJSON(w, http.StatusBadRequest, []map[string]string{{"message": "want application/json"}})
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req struct {
		Builds []struct {
			PipelineID  string `json:"pipelineId"`
			BuildNumber int64  `json:"buildNumber"`
		} `json:"builds"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Builds) == 0 {
		f.problem("builds request with an unreadable body: %v", err)
		writeJSON(w, http.StatusBadRequest, []map[string]string{{"message": "unreadable body"}})
		return
	}
	accepted := make([]map[string]any, len(req.Builds))
	for i, b := range req.Builds {
		accepted[i] = map[string]any{"pipelineId": b.PipelineID, "buildNumber": b.BuildNumber}
	}
	f.mu.Lock()
	f.lastBody = body
	f.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]any{"acceptedBuilds": accepted, "rejectedBuilds": []any{}, "unknownIssueKeys": []any{}})
}
