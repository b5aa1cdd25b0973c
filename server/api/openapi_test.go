package api

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The OpenAPI document is written by hand, so these tests hold it to the
// code: its paths, methods and permissions to the routes table, its
// request bodies and the statuses each handler writes itself to the
// handler's source, and its references to its own components.

// openAPIOperation is the part of an operation the tests read.
type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Description string                     `json:"description"`
	Tags        []string                   `json:"tags"`
	Permission  string                     `json:"x-permission"`
	Security    *[]map[string][]string     `json:"security"`
	Parameters  []openAPIParameter         `json:"parameters"`
	RequestBody json.RawMessage            `json:"requestBody"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

type openAPIParameter struct {
	Ref      string `json:"$ref"`
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
}

// openAPIMethods are the operation keys of a path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

type openAPISpec struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	} `json:"info"`
	Servers  []struct{ URL string }  `json:"servers"`
	Security []map[string][]string   `json:"security"`
	Tags     []struct{ Name string } `json:"tags"`
	// Paths maps each path to its path item: its operations by method,
	// and "parameters" shared by them.
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		SecuritySchemes map[string]struct {
			Type   string `json:"type"`
			Scheme string `json:"scheme"`
		} `json:"securitySchemes"`
		Parameters map[string]openAPIParameter `json:"parameters"`
	} `json:"components"`
}

func loadOpenAPI(t *testing.T) openAPISpec {
	t.Helper()
	var spec openAPISpec
	if err := json.Unmarshal(openAPIDoc, &spec); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return spec
}

// operations returns the document's operations by "METHOD /path".
func (s openAPISpec) operations(t *testing.T) map[string]openAPIOperation {
	t.Helper()
	ops := map[string]openAPIOperation{}
	for path, item := range s.Paths {
		for key, raw := range item {
			switch {
			case slices.Contains(openAPIMethods, key):
				var op openAPIOperation
				if err := json.Unmarshal(raw, &op); err != nil {
					t.Fatalf("%s %s: %v", key, path, err)
				}
				ops[strings.ToUpper(key)+" "+path] = op
			case key == "parameters" || key == "summary" || key == "description":
			default:
				t.Errorf("path %s has %q, which is neither an operation nor a path item field", path, key)
			}
		}
	}
	return ops
}

// pathParameters returns the path parameters declared for path and op,
// with references resolved.
func (s openAPISpec) pathParameters(t *testing.T, path string, op openAPIOperation) []openAPIParameter {
	t.Helper()
	var shared []openAPIParameter
	if raw, ok := s.Paths[path]["parameters"]; ok {
		if err := json.Unmarshal(raw, &shared); err != nil {
			t.Fatalf("%s parameters: %v", path, err)
		}
	}
	var out []openAPIParameter
	for _, p := range append(shared, op.Parameters...) {
		if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
			p = s.Components.Parameters[name]
		}
		if p.In == "path" {
			out = append(out, p)
		}
	}
	return out
}

func TestOpenAPIDocument(t *testing.T) {
	spec := loadOpenAPI(t)
	if !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(spec.OpenAPI) {
		t.Errorf("openapi %q, want 3.1.x", spec.OpenAPI)
	}
	if spec.Info.Title == "" || spec.Info.Version == "" {
		t.Errorf("info %+v lacks a title or version", spec.Info)
	}
	if len(spec.Servers) != 1 || spec.Servers[0].URL != Prefix {
		t.Errorf("servers %+v, want the one relative URL %s", spec.Servers, Prefix)
	}
	if b := spec.Components.SecuritySchemes["bearer"]; b.Type != "http" || b.Scheme != "bearer" {
		t.Errorf("security scheme bearer is %+v, want http bearer", b)
	}
	// Every route takes a bearer token; other schemes (a browser
	// session) may stand in for it.
	if !slices.ContainsFunc(spec.Security, func(req map[string][]string) bool {
		return reflect.DeepEqual(req, map[string][]string{"bearer": {}})
	}) {
		t.Errorf("top-level security %v does not offer the bearer token alone", spec.Security)
	}
	for _, req := range spec.Security {
		for name := range req {
			if _, ok := spec.Components.SecuritySchemes[name]; !ok {
				t.Errorf("security names scheme %q, which components do not define", name)
			}
		}
	}
	var tags []string
	for _, tag := range spec.Tags {
		tags = append(tags, tag.Name)
	}
	seen := map[string]string{}
	for key, op := range spec.operations(t) {
		if op.OperationID == "" {
			t.Errorf("%s has no operationId", key)
		} else if other, dup := seen[op.OperationID]; dup {
			t.Errorf("%s and %s share operationId %q", key, other, op.OperationID)
		}
		seen[op.OperationID] = key
		if len(op.Tags) == 0 {
			t.Errorf("%s has no tag", key)
		}
		for _, tag := range op.Tags {
			if !slices.Contains(tags, tag) {
				t.Errorf("%s has tag %q, which the document does not declare", key, tag)
			}
		}
	}
}

// TestOpenAPIReferences: every $ref points at something in the document,
// and every component is referenced, so a renamed or forgotten schema
// shows up here rather than in a client's code generator.
func TestOpenAPIReferences(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if resolve(doc, ref) == nil {
					t.Errorf("$ref %q resolves to nothing", ref)
				}
				used[ref] = true
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(doc)
	components, _ := doc["components"].(map[string]any)
	for _, kind := range []string{"schemas", "responses", "parameters"} {
		defs, _ := components[kind].(map[string]any)
		for name := range defs {
			if ref := "#/components/" + kind + "/" + name; !used[ref] {
				t.Errorf("%s is never referenced", ref)
			}
		}
	}
}

// resolve follows a local JSON pointer reference in doc; nil when it
// points at nothing.
func resolve(doc map[string]any, ref string) any {
	pointer, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var v any = doc
	for _, token := range strings.Split(pointer, "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		token = strings.NewReplacer("~1", "/", "~0", "~").Replace(token)
		if v, ok = m[token]; !ok {
			return nil
		}
	}
	return v
}

// TestOpenAPIMatchesRoutes: the document has exactly the routes of the
// routes table (and itself), method by method; each operation's
// x-permission is the permission its route declares; its path
// parameters are those of the path; and it documents the statuses its
// handler writes itself, a request body iff the handler decodes one, and
// the errors every route can answer.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	spec := loadOpenAPI(t)
	ops := spec.operations(t)
	handlers := handlerFacts(t)

	routes := map[string]endpoint{}
	for _, rt := range newHandler(nil, Options{}).routes() {
		for method, ep := range rt.methods {
			routes[method+" "+rt.path] = ep
		}
	}
	if len(routes) == 0 {
		t.Fatal("the routes table is empty")
	}
	for key := range routes {
		if _, ok := ops[key]; !ok {
			t.Errorf("route %s is not in openapi.json", key)
		}
	}
	public := "GET " + OpenAPIPath
	for key, op := range ops {
		ep, isRoute := routes[key]
		if key == public {
			if op.Security == nil || len(*op.Security) != 0 {
				t.Errorf("%s must declare security [] (it needs no token)", key)
			}
			if op.Permission != "" {
				t.Errorf("%s needs no permission, but declares x-permission %q", key, op.Permission)
			}
			continue
		}
		if !isRoute {
			t.Errorf("openapi.json has %s, which is not a route", key)
			continue
		}
		t.Run(key, func(t *testing.T) {
			_, path, _ := strings.Cut(key, " ")
			if op.Permission != string(ep.need) {
				t.Errorf("x-permission %q, want %q", op.Permission, ep.need)
			}
			if !strings.Contains(op.Description, "`"+string(ep.need)+"`") {
				t.Errorf("the description does not name the permission `%s`", ep.need)
			}
			if op.Security != nil {
				t.Errorf("overrides security with %v; every route needs the bearer token", *op.Security)
			}
			need := []string{"401", "403", "500"}

			var inPath []string
			for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
				inPath = append(inPath, m[1])
			}
			var declared []string
			for _, p := range spec.pathParameters(t, path, op) {
				if !p.Required {
					t.Errorf("path parameter %q is not required", p.Name)
				}
				declared = append(declared, p.Name)
			}
			slices.Sort(inPath)
			slices.Sort(declared)
			if !slices.Equal(inPath, declared) {
				t.Errorf("path parameters %v, but the path has %v", declared, inPath)
			}
			if len(inPath) > 0 {
				// pathID answers 404 for an id that cannot exist.
				need = append(need, "404")
			}

			facts, ok := handlers[handlerName(ep.serve)]
			if !ok {
				t.Fatalf("no source found for handler %s", handlerName(ep.serve))
			}
			if facts.decodesBody != (op.RequestBody != nil) {
				t.Errorf("the handler decodes a body: %v; the operation documents one: %v", facts.decodesBody, op.RequestBody != nil)
			}
			if facts.decodesBody {
				need = append(need, "400", "413", "415")
			}
			for _, name := range facts.statuses {
				code, known := statusCodes[name]
				if !known {
					t.Errorf("the handler names http.%s: add it to statusCodes", name)
				}
				need = append(need, code)
			}
			if !slices.ContainsFunc(slices.Collect(maps.Keys(op.Responses)), func(code string) bool { return code[0] == '2' }) {
				t.Error("documents no success status")
			}
			for _, code := range need {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("does not document status %s", code)
				}
			}
			for code, raw := range op.Responses {
				var ref struct {
					Ref string `json:"$ref"`
				}
				json.Unmarshal(raw, &ref)
				if want, shared := sharedResponses[code]; shared && ref.Ref != "#/components/responses/"+want {
					t.Errorf("status %s is %s, want the shared %s", code, raw, want)
				}
			}
		})
	}
}

// sharedResponses are the error statuses every operation documents with
// the same component.
var sharedResponses = map[string]string{
	"400": "BadRequest", "401": "Unauthenticated", "403": "Forbidden", "404": "NotFound",
	"409": "Conflict", "410": "EventsGone", "413": "PayloadTooLarge", "415": "UnsupportedMediaType", "500": "Internal",
}

// handlerName is the name of the handler method fn is a method value of,
// such as "listAgents".
func handlerName(fn http.HandlerFunc) string {
	name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	name = strings.TrimSuffix(name, "-fm")
	return name[strings.LastIndex(name, ".")+1:]
}

// handlerSource is what a handler method's own body shows: whether it
// decodes a request body, and the statuses it names itself (those
// reached through h.fail and the store are documented from the handler's
// comments instead).
type handlerSource struct {
	decodesBody bool
	statuses    []string // constant names, such as "StatusCreated"
}

// statusCodes are the net/http status constants handlers name, by name.
var statusCodes = map[string]string{
	"StatusOK": "200", "StatusCreated": "201", "StatusNoContent": "204",
	"StatusBadRequest": "400", "StatusForbidden": "403", "StatusNotFound": "404",
	"StatusConflict": "409", "StatusGone": "410", "StatusRequestEntityTooLarge": "413",
	"StatusUnsupportedMediaType": "415", "StatusInternalServerError": "500",
}

// handlerFacts reads the package's source for what each method of
// *handler does itself.
func handlerFacts(t *testing.T) map[string]handlerSource {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	out := map[string]handlerSource{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Body == nil || !isHandlerReceiver(fn.Recv.List[0].Type) {
				continue
			}
			var facts handlerSource
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && id.Name == "servePatch" {
					// The shared PATCH handler decodes a body and answers 200.
					facts.decodesBody = true
					if !slices.Contains(facts.statuses, "StatusOK") {
						facts.statuses = append(facts.statuses, "StatusOK")
					}
					return true
				}
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, _ := sel.X.(*ast.Ident)
				switch {
				case sel.Sel.Name == "decodeBody":
					facts.decodesBody = true
				case pkg != nil && pkg.Name == "http" && strings.HasPrefix(sel.Sel.Name, "Status"):
					if !slices.Contains(facts.statuses, sel.Sel.Name) {
						facts.statuses = append(facts.statuses, sel.Sel.Name)
					}
				}
				return true
			})
			out[fn.Name.Name] = facts
		}
	}
	return out
}

// isHandlerReceiver reports whether a method receiver's type is *handler.
func isHandlerReceiver(expr ast.Expr) bool {
	star, ok := expr.(*ast.StarExpr)
	if !ok {
		return false
	}
	ident, ok := star.X.(*ast.Ident)
	return ok && ident.Name == "handler"
}

// TestOpenAPIServedWithoutToken: the document is public, served as
// JSON, cacheable by ETag; the rest of the API still needs a token. The
// API is built without a store, so a request that reached authenticate
// for the document would fail.
func TestOpenAPIServedWithoutToken(t *testing.T) {
	srv := httptest.NewServer(New(nil, Options{}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name, method, path string
		header             map[string]string
		status             int
		body               []byte // nil: not checked
		allow              string
	}{
		{name: "GET", method: "GET", path: Prefix + OpenAPIPath, status: http.StatusOK, body: openAPIDoc},
		{name: "HEAD", method: "HEAD", path: Prefix + OpenAPIPath, status: http.StatusOK, body: []byte{}},
		{name: "GET with a bad token", method: "GET", path: Prefix + OpenAPIPath,
			header: map[string]string{"Authorization": "Bearer nonsense"}, status: http.StatusOK, body: openAPIDoc},
		{name: "revalidation", method: "GET", path: Prefix + OpenAPIPath,
			header: map[string]string{"If-None-Match": openAPIETag}, status: http.StatusNotModified, body: []byte{}},
		{name: "POST", method: "POST", path: Prefix + OpenAPIPath, status: http.StatusMethodNotAllowed, allow: "GET, HEAD"},
		{name: "another route", method: "GET", path: Prefix + "/me", status: http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %.200s", resp.StatusCode, tc.status, body)
			}
			if tc.body != nil && string(body) != string(tc.body) {
				t.Errorf("body %.200s…, want %.200s…", body, tc.body)
			}
			if tc.allow != "" && resp.Header.Get("Allow") != tc.allow {
				t.Errorf("Allow %q, want %q", resp.Header.Get("Allow"), tc.allow)
			}
			if tc.status == http.StatusOK {
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q, want application/json", ct)
				}
				if resp.Header.Get("ETag") != openAPIETag {
					t.Errorf("ETag %q, want %q", resp.Header.Get("ETag"), openAPIETag)
				}
			}
		})
	}
}
