package fakejira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// SpecFile is the name of Atlassian's OpenAPI document under testdata/spec/ of the repository.
const SpecFile = "jira-software-cloud-swagger.v3.json"

// The two operations whose request bodies the fake validates, by Connect path (the 2LO paths have the same suffix).
const (
	buildsSpecPath      = "/rest/builds/0.1/bulk"
	deploymentsSpecPath = "/rest/deployments/0.1/bulk"
)

// MaxAssociationValues is the limit on the number of association values of one deployment, counted over all its
// associations. The spec states it only in prose ("The number of values counted across all associationTypes (issueKeys,
// issueIdOrKeys and service IDs) must not exceed a limit of 500"), so it is checked in code.
const MaxAssociationValues = 500

// Problem is one reason why a request body is invalid.
type Problem struct {
	// Pointer is the JSON pointer of the offending value ("" for the whole document), e.g. "/builds/0/issueKeys/3".
	Pointer string
	// Message says what is wrong, without repeating the pointer.
	Message string
}

func (p Problem) String() string {
	if p.Pointer == "" {
		return p.Message
	}
	return p.Pointer + ": " + p.Message
}

// ValidationError is the error ValidateBody returns for a body that does not satisfy the spec.
type ValidationError struct {
	Kind     string // "builds" or "deployments"
	Problems []Problem
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s request body: %s", e.Kind, strings.Join(e.Messages(), "; "))
}

// Messages is each problem as a line, as the fake's error bodies list them.
func (e *ValidationError) Messages() []string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return msgs
}

// recordIndex returns the index of the build or deployment a problem is about, or -1 when the problem is about the
// request as a whole.
func (p Problem) recordIndex(kind string) int {
	prefix := "/" + kind + "/"
	rest, ok := strings.CutPrefix(p.Pointer, prefix)
	if !ok {
		return -1
	}
	idx, _, _ := strings.Cut(rest, "/")
	n, err := strconv.Atoi(idx)
	if err != nil {
		return -1
	}
	return n
}

// ValidateBody checks body, a request body for the builds ("builds"), deployments ("deployments") or development
// information ("devinfo", see devinfo.go) bulk endpoint, against the spec's SubmitBuildsRequest /
// SubmitDeploymentRequest / DevInformation schema plus the rules the spec states only in prose, exactly as the fake
// server does by default (see the package documentation). It returns nil or a *ValidationError; any other error means
// kind is unknown or the spec could not be loaded.
func ValidateBody(kind string, body []byte) error {
	if ve := validateBody(kind, body, true); ve != nil {
		return ve
	}
	return nil
}

// validateBody returns nil or the problems with body. Errors that are not about the body (unknown kind, unloadable
// spec) are returned as a ValidationError with one problem too, so that the server reports them loudly.
func validateBody(kind string, body []byte, rejectUnknownFields bool) *ValidationError {
	fail := func(ps ...Problem) *ValidationError { return &ValidationError{Kind: kind, Problems: ps} }
	sp, err := loadSpec()
	if err != nil {
		return fail(Problem{Message: "fakejira: " + err.Error()})
	}
	schema, ok := sp.schemas[kind]
	if !ok {
		return fail(Problem{Message: fmt.Sprintf("fakejira: unknown body kind %q (want \"builds\", \"deployments\" or \"devinfo\")", kind)})
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return fail(Problem{Message: "body is not valid JSON: " + err.Error()})
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail(Problem{Message: "body has data after the JSON value"})
	}
	if _, ok := doc.(map[string]any); !ok {
		return fail(Problem{Message: "body must be a JSON object"})
	}

	var problems []Problem
	// VisitJSON may write defaults into the value; doc is ours alone and not used afterwards for anything else.
	if err := schema.VisitJSON(doc, visitOptions()...); err != nil {
		problems = append(problems, schemaProblems(err, "")...)
	}
	if rejectUnknownFields {
		checkUnknownFields([]*openapi3.Schema{schema}, doc, "", &problems)
	}
	problems = append(problems, proseChecks(kind, doc)...)
	if len(problems) == 0 {
		return nil
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Pointer < problems[j].Pointer })
	problems = slices.Compact(problems)
	return fail(problems...)
}

// uriFormat validates the spec's "uri" and "URL" formats: an absolute URI (scheme plus host or opaque part) without
// white space or control characters.
var uriFormat = openapi3.NewCallbackValidator(func(s string) error {
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return errors.New("not a URI: contains white space or control characters")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URI: %v", err)
	}
	if u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
		return errors.New("not an absolute URI")
	}
	return nil
})

func visitOptions() []openapi3.SchemaValidationOption {
	return []openapi3.SchemaValidationOption{
		openapi3.VisitAsRequest(),
		openapi3.MultiErrors(),
		openapi3.DisableSchemaErrorDetails(),
		openapi3.WithStringFormatValidator("uri", uriFormat),
		openapi3.WithStringFormatValidator("URL", uriFormat),
		openapi3.WithStringFormatValidator("url", uriFormat), // devinfo's spelling
	}
}

// schemaProblems flattens kin-openapi's (possibly nested) MultiError into problems; prefix is prepended to their
// pointers.
//
// kin-openapi reports a value that fails an anyOf/oneOf only as "doesn't match any schema". When exactly one of the
// alternatives is selected by the value itself (an enum-valued member such as associationType that the value
// carries with an allowed value), the value is validated against that alternative instead, to say what is wrong.
func schemaProblems(err error, prefix string) []Problem {
	var out []Problem
	var walk func(error)
	walk = func(err error) {
		var me openapi3.MultiError
		if errors.As(err, &me) && !isSchemaError(err) {
			for _, e := range me {
				walk(e)
			}
			return
		}
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			ptr := prefix
			if p := se.JSONPointer(); len(p) > 0 {
				ptr += "/" + strings.Join(p, "/")
			}
			if se.SchemaField == "anyOf" || se.SchemaField == "oneOf" {
				if alt := selectedAlternative(se); alt != nil {
					if err := alt.VisitJSON(se.Value, visitOptions()...); err != nil {
						out = append(out, schemaProblems(err, ptr)...)
						return
					}
				}
			}
			msg := se.Reason
			if se.Origin != nil {
				msg = se.Origin.Error()
			}
			if msg == "" {
				msg = fmt.Sprintf("does not match schema %q", se.SchemaField)
			}
			out = append(out, Problem{Pointer: ptr, Message: msg})
			return
		}
		out = append(out, Problem{Pointer: prefix, Message: err.Error()})
	}
	walk(err)
	return out
}

// selectedAlternative returns the only anyOf/oneOf alternative of se.Schema that the object se.Value selects
// through an enum-valued member, or nil.
func selectedAlternative(se *openapi3.SchemaError) *openapi3.Schema {
	obj, ok := se.Value.(map[string]any)
	if !ok || se.Schema == nil {
		return nil
	}
	alts := se.Schema.AnyOf
	if se.SchemaField == "oneOf" {
		alts = se.Schema.OneOf
	}
	var found *openapi3.Schema
	for _, r := range alts {
		if r == nil || r.Value == nil {
			continue
		}
		for name, pr := range r.Value.Properties {
			v, present := obj[name]
			if !present || pr == nil || pr.Value == nil || len(pr.Value.Enum) == 0 || !slices.Contains(pr.Value.Enum, v) {
				continue
			}
			if found != nil && found != r.Value {
				return nil
			}
			found = r.Value
		}
	}
	return found
}

func isSchemaError(err error) bool {
	_, ok := err.(*openapi3.SchemaError)
	return ok
}

// expandSchemas returns the schemas plus, recursively, their allOf/anyOf/oneOf sub-schemas.
func expandSchemas(in []*openapi3.Schema) []*openapi3.Schema {
	var out []*openapi3.Schema
	var add func(*openapi3.Schema)
	add = func(s *openapi3.Schema) {
		if s == nil || slices.Contains(out, s) {
			return
		}
		out = append(out, s)
		for _, refs := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, r := range refs {
				if r != nil {
					add(r.Value)
				}
			}
		}
	}
	for _, s := range in {
		add(s)
	}
	return out
}

// checkUnknownFields reports object members that no candidate schema declares. The spec never sets
// additionalProperties on these objects, so JSON Schema allows any extra member; the fake is stricter, because a
// member the spec does not know is almost certainly a misspelt field that Jira would silently drop.
func checkUnknownFields(schemas []*openapi3.Schema, v any, ptr string, out *[]Problem) {
	all := expandSchemas(schemas)
	switch v := v.(type) {
	case map[string]any:
		open, declares := false, false
		for _, s := range all {
			if len(s.Properties) > 0 {
				declares = true
			}
			if s.AdditionalProperties.Schema != nil || (s.AdditionalProperties.Has != nil && *s.AdditionalProperties.Has) {
				open = true
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var children []*openapi3.Schema
			for _, s := range all {
				if r := s.Properties[k]; r != nil && r.Value != nil {
					children = append(children, r.Value)
				} else if r := s.AdditionalProperties.Schema; r != nil && r.Value != nil {
					children = append(children, r.Value)
				}
			}
			child := ptr + "/" + escapePointer(k)
			if len(children) == 0 {
				if declares && !open {
					*out = append(*out, Problem{Pointer: child, Message: "unknown field (the spec does not declare it)"})
				}
				continue
			}
			checkUnknownFields(children, v[k], child, out)
		}
	case []any:
		var items []*openapi3.Schema
		for _, s := range all {
			if s.Items != nil && s.Items.Value != nil {
				items = append(items, s.Items.Value)
			}
		}
		if len(items) == 0 {
			return
		}
		for i, e := range v {
			checkUnknownFields(items, e, ptr+"/"+strconv.Itoa(i), out)
		}
	}
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// proseChecks enforces rules the spec states in descriptions rather than in the schema.
func proseChecks(kind string, doc any) []Problem {
	var out []Problem
	top, _ := doc.(map[string]any)
	if props, ok := top["properties"].(map[string]any); ok {
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if strings.Contains(k, ":") || strings.HasPrefix(k, "_") {
				out = append(out, Problem{Pointer: "/properties/" + escapePointer(k),
					Message: "property keys must not contain ':' or start with '_'"})
			}
		}
	}
	if kind == "devinfo" {
		return append(out, devinfoProseChecks(top)...)
	}
	if kind != "deployments" {
		return out
	}
	deps, _ := top["deployments"].([]any)
	for i, d := range deps {
		dep, ok := d.(map[string]any)
		if !ok {
			continue
		}
		ptr := "/deployments/" + strconv.Itoa(i)
		_, hasKeys := dep["issueKeys"]
		_, hasAssoc := dep["associations"]
		if !hasKeys && !hasAssoc {
			out = append(out, Problem{Pointer: ptr, Message: "must specify one of issueKeys or associations"})
		}
		assocs, _ := dep["associations"].([]any)
		total := 0
		for _, a := range assocs {
			if am, ok := a.(map[string]any); ok {
				if vals, ok := am["values"].([]any); ok {
					total += len(vals)
				}
			}
		}
		if total > MaxAssociationValues {
			out = append(out, Problem{Pointer: ptr + "/associations",
				Message: fmt.Sprintf("%d association values in total; at most %d are allowed per deployment", total, MaxAssociationValues)})
		}
	}
	return out
}

// spec is the loaded and patched document.
type spec struct {
	doc     *openapi3.T
	schemas map[string]*openapi3.Schema // "builds", "deployments"
}

var (
	specOnce   sync.Once
	loadedSpec *spec
	specErr    error
)

func loadSpec() (*spec, error) {
	specOnce.Do(func() { loadedSpec, specErr = doLoadSpec() })
	return loadedSpec, specErr
}

// SpecPath returns the path of Atlassian's OpenAPI document: testdata/spec/SpecFile at the repository root, found
// from this source file's location (runtime.Caller), or, if the binary was built with -trimpath, by walking up from
// the working directory.
func SpecPath() (string, error) {
	var tried []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		p := filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "spec", SpecFile)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			p := filepath.Join(dir, "testdata", "spec", SpecFile)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			tried = append(tried, p)
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", fmt.Errorf("cannot find %s (tried %s)", SpecFile, strings.Join(tried, ", "))
}

func doLoadSpec() (*spec, error) {
	path, err := SpecPath()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	loader.Context = context.Background()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	// Patch 1: the document is validated without its examples. Some examples elsewhere in the document do not
	// match their schemas (for instance the response example of GET /rest/agile/1.0/board is a JSON-encoded
	// string instead of an object); they have nothing to do with builds or deployments.
	if err := doc.Validate(loader.Context, openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("validating %s: %w", path, err)
	}
	sp := &spec{doc: doc, schemas: map[string]*openapi3.Schema{}}
	for kind, p := range map[string]string{"builds": buildsSpecPath, "deployments": deploymentsSpecPath, "devinfo": devinfoSpecPath} {
		s, err := requestSchema(doc, p)
		if err != nil {
			return nil, err
		}
		sp.schemas[kind] = s
	}
	if err := patchAssociations(sp.schemas["deployments"]); err != nil {
		return nil, err
	}
	if err := patchDevInfo(sp.schemas["devinfo"]); err != nil {
		return nil, err
	}
	for _, s := range sp.schemas {
		patchSchemaTree(s)
		if err := s.Validate(loader.Context); err != nil {
			return nil, fmt.Errorf("patched schema %q is invalid: %w", s.Title, err)
		}
	}
	return sp, nil
}

func requestSchema(doc *openapi3.T, path string) (*openapi3.Schema, error) {
	item := doc.Paths.Value(path)
	if item == nil || item.Post == nil || item.Post.RequestBody == nil || item.Post.RequestBody.Value == nil {
		return nil, fmt.Errorf("spec has no POST %s with a request body", path)
	}
	mt := item.Post.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, fmt.Errorf("spec has no application/json schema for POST %s", path)
	}
	return mt.Schema.Value, nil
}

// patchAssociations removes the oneOf of the deployment association item (patch 2). The spec gives that item both a
// oneOf with two variants (issueKeys/issueIdOrKeys, serviceIdOrKeys) and an anyOf with three (the same two plus
// commit/repository). A value must satisfy both, so with the oneOf in place a commit or repository association could
// never be valid, although the anyOf and the prose allow it. The oneOf is an older copy of the list; the anyOf alone
// expresses the intent.
func patchAssociations(dep *openapi3.Schema) error {
	item, err := walkProps(dep, "deployments", "[]", "associations", "[]")
	if err != nil {
		return fmt.Errorf("patching associations: %w", err)
	}
	if len(item.AnyOf) != 3 || len(item.OneOf) != 2 {
		return fmt.Errorf("patching associations: expected oneOf(2) and anyOf(3) on the association item, got oneOf(%d) anyOf(%d); the spec changed, revisit the patch",
			len(item.OneOf), len(item.AnyOf))
	}
	item.OneOf = nil
	return nil
}

func walkProps(s *openapi3.Schema, steps ...string) (*openapi3.Schema, error) {
	for _, st := range steps {
		var next *openapi3.SchemaRef
		if st == "[]" {
			next = s.Items
		} else {
			next = s.Properties[st]
		}
		if next == nil || next.Value == nil {
			return nil, fmt.Errorf("no %q in schema %q", st, s.Title)
		}
		s = next.Value
	}
	return s, nil
}

// patchSchemaTree applies patches 3 and 4 to every schema reachable from s:
//
//   - Patch 3: a schema with properties or required members but no type gets type "object". The spec leaves out
//     "type": "object" on BuildData, DeploymentData, Pipeline, Environment, Command and the request objects; JSON
//     Schema then applies properties/required only to objects and accepts, say, a string as a build.
//   - Patch 4: a pattern that is not anchored at both ends is wrapped in ^(?:…)$. JSON Schema patterns match
//     anywhere in the string, but Jira is a Java service and Java's Pattern.matches (as used by Bean Validation's
//     @Pattern) matches the whole string. The only such pattern here is the issueIdOrKeys value pattern
//     (\w{1,255}-\d{1,255}|\d{1,255}), which unanchored would accept any string that contains a digit.
func patchSchemaTree(s *openapi3.Schema) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(*openapi3.Schema)
	visitRef := func(r *openapi3.SchemaRef) {
		if r != nil && r.Value != nil {
			walk(r.Value)
		}
	}
	walk = func(s *openapi3.Schema) {
		if seen[s] {
			return
		}
		seen[s] = true
		if (s.Type == nil || len(s.Type.Slice()) == 0) && (len(s.Properties) > 0 || len(s.Required) > 0) {
			s.Type = &openapi3.Types{openapi3.TypeObject}
		}
		if p := s.Pattern; p != "" && !(strings.HasPrefix(p, "^") && strings.HasSuffix(p, "$")) {
			s.Pattern = "^(?:" + p + ")$"
		}
		for _, r := range s.Properties {
			visitRef(r)
		}
		visitRef(s.Items)
		visitRef(s.AdditionalProperties.Schema)
		visitRef(s.Not)
		for _, refs := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, r := range refs {
				visitRef(r)
			}
		}
	}
	walk(s)
}
