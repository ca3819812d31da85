package fakejira

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// The Development Information API (issue 11): POST bulk, validated against the spec's request schema of
// POST /rest/devinfo/0.10/bulk like builds and deployments, and DELETE of one entity. The fake keeps what it was
// sent (entity ids and their updateSequenceId per repository), honours updateSequenceId ordering, and answers with
// the spec's StoreDevinfoResult: acceptedDevinfoEntities, failedDevinfoEntities (scripted with FailDevInfo) and
// unknownIssueKeys (SetUnknownIssueKeys). Its error bodies are devinfo's {"errorMessages": [{"message": …}]}.

// Endpoints of the Development Information API.
const (
	EndpointDevInfo       Endpoint = "devinfo"        // POST /jira/devinfo/0.1/cloud/{cloudId}/bulk
	EndpointDevInfoDelete Endpoint = "devinfo_delete" // DELETE /jira/devinfo/0.1/cloud/{cloudId}/repository/{repositoryId}/{entityType}/{entityId}
)

const (
	devinfoSpecPath      = "/rest/devinfo/0.10/bulk"
	patternDevInfo       = "POST /jira/devinfo/0.1/cloud/{cloudId}/bulk"
	patternDevInfoDelete = "DELETE /jira/devinfo/0.1/cloud/{cloudId}/repository/{repositoryId}/{entityType}/{entityId}"
)

func init() {
	endpointByPattern[patternDevInfo] = EndpointDevInfo
	endpointByPattern[patternDevInfoDelete] = EndpointDevInfoDelete
}

// Entity types, as the DELETE path names them; "repository" names a repository in FailDevInfo.
const (
	EntityCommit      = "commit"
	EntityBranch      = "branch"
	EntityPullRequest = "pull_request"
	EntityRepository  = "repository"
)

// MaxDevInfoEntities is the spec's limit on the entities of one request, over all its repositories ("Maximum number
// of entities across all repositories is 1000").
const MaxDevInfoEntities = 1000

// devinfoState is what the fake knows of development information; guarded by Server.mu.
type devinfoState struct {
	// stored: repository id → entity type → entity id → updateSequenceId.
	stored map[string]map[string]map[string]int64
	// failures: entity type + "\x00" + id → message.
	failures map[string]string
}

func (s *Server) devinfoLocked() *devinfoState {
	if s.devinfo == nil {
		s.devinfo = &devinfoState{stored: map[string]map[string]map[string]int64{}, failures: map[string]string{}}
	}
	return s.devinfo
}

func (s *Server) registerDevInfo() {
	s.mu.Lock()
	s.devinfoLocked()
	s.mu.Unlock()
	s.mux.HandleFunc(patternDevInfo, s.handleDevInfo)
	s.mux.HandleFunc(patternDevInfoDelete, s.handleDevInfoDelete)
}

// WithDevInfoFailure makes the devinfo endpoint fail an entity. See Server.FailDevInfo.
func WithDevInfoFailure(entityType, id, message string) Option {
	return func(s *Server) { s.devinfoLocked().failures[entityType+"\x00"+id] = message }
}

// FailDevInfo makes the devinfo endpoint list the entity of entityType (EntityCommit, EntityBranch,
// EntityPullRequest or EntityRepository) with id under failedDevinfoEntities with message, instead of accepting it.
// An empty message clears the failure.
func (s *Server) FailDevInfo(entityType, id, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := entityType + "\x00" + id
	if message == "" {
		delete(s.devinfoLocked().failures, k)
		return
	}
	s.devinfoLocked().failures[k] = message
}

// DevInfoBodies returns every devinfo bulk body received (valid or not), in order.
func (s *Server) DevInfoBodies() []json.RawMessage {
	var out []json.RawMessage
	for _, r := range s.Requests() {
		if r.Endpoint == EndpointDevInfo {
			out = append(out, r.Body)
		}
	}
	return out
}

// LastDevInfo returns the last devinfo bulk body decoded into a map (numbers are float64), or nil.
func (s *Server) LastDevInfo() map[string]any { return decodeObject(s.LastBody(EndpointDevInfo)) }

// DevInfoStored returns the sorted ids of the entities of entityType (EntityCommit, EntityBranch or
// EntityPullRequest) the fake holds for a repository: accepted by a submission and not deleted since.
func (s *Server) DevInfoStored(repositoryID, entityType string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id := range s.devinfoLocked().stored[repositoryID][entityType] {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// ---- POST bulk ----

// devinfoErrors writes devinfo's error body: {"errorMessages": [{"message": …}, …]}.
func devinfoErrors(w http.ResponseWriter, status int, msgs ...string) {
	writeJSON(w, status, map[string]any{"errorMessages": toErrorMessages(msgs)})
}

type entityError struct {
	ID            string         `json:"id"`
	ErrorMessages []errorMessage `json:"errorMessages"`
}

type repositoryErrors struct {
	ErrorMessages []errorMessage `json:"errorMessages,omitempty"`
	Commits       []entityError  `json:"commits,omitempty"`
	Branches      []entityError  `json:"branches,omitempty"`
	PullRequests  []entityError  `json:"pullRequests,omitempty"`
}

type entityIDs struct {
	Commits      []string `json:"commits"`
	Branches     []string `json:"branches"`
	PullRequests []string `json:"pullRequests"`
}

// devinfoFields maps the body's entity arrays to entity types.
var devinfoFields = []struct{ field, entityType string }{
	{"commits", EntityCommit},
	{"branches", EntityBranch},
	{"pullRequests", EntityPullRequest},
}

func (s *Server) handleDevInfo(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) || !s.rightCloud(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	if ve := s.checkBody(EndpointDevInfo, r, body); ve != nil {
		devinfoErrors(w, http.StatusBadRequest, ve.Messages()...)
		return
	}
	repos, _ := decodeDoc(body)["repositories"].([]any)

	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.devinfoLocked()
	accepted := map[string]*entityIDs{}
	failed := map[string]*repositoryErrors{}
	unknown := []string{}
	unknownSeen := map[string]bool{}
	for _, rv := range repos {
		repo, _ := rv.(map[string]any)
		repoID, _ := repo["id"].(string)
		if msg := s.devinfoFailure(st, EntityRepository, repoID); msg != "" {
			failed[repoID] = &repositoryErrors{ErrorMessages: toErrorMessages([]string{msg})}
			continue
		}
		acc := &entityIDs{Commits: []string{}, Branches: []string{}, PullRequests: []string{}}
		fails := &repositoryErrors{}
		for _, f := range devinfoFields {
			items, _ := repo[f.field].([]any)
			for _, it := range items {
				e, _ := it.(map[string]any)
				id, _ := e["id"].(string)
				if msg := s.devinfoFailure(st, f.entityType, id); msg != "" {
					ee := entityError{ID: id, ErrorMessages: toErrorMessages([]string{msg})}
					switch f.entityType {
					case EntityCommit:
						fails.Commits = append(fails.Commits, ee)
					case EntityBranch:
						fails.Branches = append(fails.Branches, ee)
					default:
						fails.PullRequests = append(fails.PullRequests, ee)
					}
					continue
				}
				known := 0
				keys, _ := e["issueKeys"].([]any)
				for _, kv := range keys {
					k, _ := kv.(string)
					if !s.unknownKeys[k] {
						known++
						continue
					}
					if !unknownSeen[k] {
						unknownSeen[k] = true
						unknown = append(unknown, k)
					}
				}
				if known == 0 {
					continue // linked to no issue Jira knows: not stored
				}
				switch f.entityType {
				case EntityCommit:
					acc.Commits = append(acc.Commits, id)
				case EntityBranch:
					acc.Branches = append(acc.Branches, id)
				default:
					acc.PullRequests = append(acc.PullRequests, id)
				}
				seq, _ := numberOf(e["updateSequenceId"])
				byType := st.stored[repoID]
				if byType == nil {
					byType = map[string]map[string]int64{}
					st.stored[repoID] = byType
				}
				if byType[f.entityType] == nil {
					byType[f.entityType] = map[string]int64{}
				}
				if old, ok := byType[f.entityType][id]; !ok || old < seq {
					byType[f.entityType][id] = seq
				}
			}
		}
		accepted[repoID] = acc
		if len(fails.Commits)+len(fails.Branches)+len(fails.PullRequests) > 0 {
			failed[repoID] = fails
		}
	}
	resp := map[string]any{"acceptedDevinfoEntities": accepted, "unknownIssueKeys": unknown}
	if len(failed) > 0 {
		resp["failedDevinfoEntities"] = failed
	}
	writeJSON(w, http.StatusAccepted, resp)
}

func (s *Server) devinfoFailure(st *devinfoState, entityType, id string) string {
	if s.rejectMessage != "" {
		return s.rejectMessage
	}
	return st.failures[entityType+"\x00"+id]
}

// ---- DELETE entity ----

func (s *Server) handleDevInfoDelete(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) || !s.rightCloud(w, r) {
		return
	}
	repoID, entityType, id := r.PathValue("repositoryId"), r.PathValue("entityType"), r.PathValue("entityId")
	switch entityType {
	case EntityCommit, EntityBranch, EntityPullRequest:
	default:
		s.report("DELETE %s: entity type %q is not commit, branch or pull_request", r.URL.EscapedPath(), entityType)
		devinfoErrors(w, http.StatusBadRequest, "Wrong entity type specified")
		return
	}
	for _, v := range []string{repoID, id} {
		if !validEntityID(v) {
			s.report("DELETE %s: id %q is not made of [A-Za-z0-9~.-_] (at most 1024)", r.URL.EscapedPath(), v)
			devinfoErrors(w, http.StatusBadRequest, fmt.Sprintf("Invalid id %q", v))
			return
		}
	}
	q := r.URL.Query()
	for k := range q {
		if k != "_updateSequenceId" {
			s.report("DELETE %s: unknown query parameter %q", r.URL.EscapedPath(), k)
		}
	}
	limit := int64(-1)
	if v := q.Get("_updateSequenceId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.report("DELETE %s: _updateSequenceId %q is not an int64", r.URL.EscapedPath(), v)
			devinfoErrors(w, http.StatusBadRequest, "_updateSequenceId must be an integer")
			return
		}
		limit = n
	}
	s.mu.Lock()
	st := s.devinfoLocked()
	if ids := st.stored[repoID][entityType]; ids != nil {
		// "Only stored data with an updateSequenceId less than or equal to that provided will be deleted."
		if seq, ok := ids[id]; ok && (limit < 0 || seq <= limit) {
			delete(ids, id)
		}
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// ---- validation ----

// entityIDRE is the id charset the spec states in prose: "Only alphanumeric characters, and '~.-_', are allowed. Max
// length is 1024 characters".
var entityIDRE = regexp.MustCompile(`^[A-Za-z0-9~._-]+$`)

func validEntityID(s string) bool { return len(s) <= 1024 && entityIDRE.MatchString(s) }

// patchDevInfo applies patch 5 to the devinfo request schema: the spec puts the issue key pattern
// ^\p{L}[\p{L}\p{Digit}_]{1,255}-\p{Digit}{1,255}$ on the issueKeys arrays, where JSON Schema ignores it (a pattern
// applies to strings only); it is moved to their items, with Java's \p{Digit} written as \p{Nd} for Go's regexp. The
// schema's examples are dropped too: several do not match their schemas (issueKeys' example is a JSON-encoded string,
// flags' is "[MERGE_COMMIT]"), and the patched schema is validated with its examples.
func patchDevInfo(s *openapi3.Schema) error {
	if s == nil {
		return fmt.Errorf("patching devinfo: no schema for %s", devinfoSpecPath)
	}
	moved := 0
	seen := map[*openapi3.Schema]bool{}
	var walk func(*openapi3.Schema)
	walk = func(s *openapi3.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		s.Example = nil
		if s.Type.Is(openapi3.TypeArray) && s.Pattern != "" && s.Items != nil && s.Items.Value != nil {
			item := *s.Items.Value // a copy: the item schema may be shared
			item.Pattern = strings.ReplaceAll(s.Pattern, `\p{Digit}`, `\p{Nd}`)
			s.Items = openapi3.NewSchemaRef("", &item)
			s.Pattern = ""
			moved++
		}
		for _, r := range s.Properties {
			if r != nil {
				walk(r.Value)
			}
		}
		if s.Items != nil {
			walk(s.Items.Value)
		}
	}
	walk(s)
	if moved == 0 {
		return fmt.Errorf("patching devinfo: no issueKeys pattern on an array; the spec changed, revisit the patch")
	}
	return nil
}

// devinfoProseChecks enforces what the devinfo spec says only in prose: at least one repository with at least one
// entity, at most MaxDevInfoEntities entities in all, no duplicate repository ids nor entity ids (per type and
// repository), ids made of [A-Za-z0-9~.-_] (at most 1024), timestamps in ISO 8601 (RFC 3339), at most 5
// properties whose keys and values are at most 255 characters.
func devinfoProseChecks(top map[string]any) []Problem {
	var out []Problem
	add := func(ptr, format string, args ...any) {
		out = append(out, Problem{Pointer: ptr, Message: fmt.Sprintf(format, args...)})
	}
	if props, ok := top["properties"].(map[string]any); ok {
		if len(props) > 5 {
			add("/properties", "%d properties; at most 5 are allowed", len(props))
		}
		for k, v := range props {
			vs, _ := v.(string)
			if len([]rune(k)) > 255 || len([]rune(vs)) > 255 {
				add("/properties/"+escapePointer(k), "property keys and values are at most 255 characters")
			}
		}
	}
	repos, _ := top["repositories"].([]any)
	if len(repos) == 0 {
		add("/repositories", "no repositories provided")
		return out
	}
	entities := 0
	repoIDs := map[string]bool{}
	for i, rv := range repos {
		repo, ok := rv.(map[string]any)
		if !ok {
			continue
		}
		rptr := "/repositories/" + strconv.Itoa(i)
		id, _ := repo["id"].(string)
		if !validEntityID(id) {
			add(rptr+"/id", "only alphanumeric characters and '~.-_' are allowed, at most 1024")
		}
		if repoIDs[id] {
			add(rptr+"/id", "duplicate repository id %q", id)
		}
		repoIDs[id] = true
		for _, f := range devinfoFields {
			items, _ := repo[f.field].([]any)
			entities += len(items)
			ids := map[string]bool{}
			for j, it := range items {
				e, ok := it.(map[string]any)
				if !ok {
					continue
				}
				eptr := rptr + "/" + f.field + "/" + strconv.Itoa(j)
				eid, _ := e["id"].(string)
				if !validEntityID(eid) {
					add(eptr+"/id", "only alphanumeric characters and '~.-_' are allowed, at most 1024")
				}
				if ids[eid] {
					add(eptr+"/id", "duplicate %s id %q", f.entityType, eid)
				}
				ids[eid] = true
				commits := []map[string]any{}
				cptrs := []string{}
				switch f.entityType {
				case EntityCommit:
					commits, cptrs = append(commits, e), append(cptrs, eptr)
				case EntityBranch:
					if lc, ok := e["lastCommit"].(map[string]any); ok {
						commits, cptrs = append(commits, lc), append(cptrs, eptr+"/lastCommit")
						if lid, _ := lc["id"].(string); !validEntityID(lid) {
							add(eptr+"/lastCommit/id", "only alphanumeric characters and '~.-_' are allowed, at most 1024")
						}
					}
				case EntityPullRequest:
					checkTimestamp(e, "lastUpdate", eptr, add)
				}
				for k, c := range commits {
					checkTimestamp(c, "authorTimestamp", cptrs[k], add)
				}
			}
		}
	}
	switch {
	case entities == 0:
		add("/repositories", "no development information entities provided")
	case entities > MaxDevInfoEntities:
		add("/repositories", "%d entities; at most %d are allowed across all repositories", entities, MaxDevInfoEntities)
	}
	return out
}

func checkTimestamp(obj map[string]any, field, ptr string, add func(string, string, ...any)) {
	v, ok := obj[field].(string)
	if !ok {
		return
	}
	if _, err := time.Parse(time.RFC3339, v); err != nil {
		add(ptr+"/"+field, "not an ISO 8601 date-time: %q", v)
	}
}
