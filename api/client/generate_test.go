package client

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestGeneratedClientIsCurrent regenerates the client from docs/openapi.yaml with the pinned
// oapi-codegen (go.mod's tool, from the module cache: no network) and compares it with the
// committed client.gen.go.
func TestGeneratedClientIsCurrent(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool runs oapi-codegen and is not on PATH: %v", err)
	}
	config, err := os.ReadFile("oapi-codegen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const outputLine = "\noutput: client.gen.go\n"
	if !bytes.Contains(config, []byte(outputLine)) {
		t.Fatalf("oapi-codegen.yaml has no line %q for the test to redirect", strings.TrimSpace(outputLine))
	}
	dir := t.TempDir()
	fresh := filepath.Join(dir, "client.gen.go")
	tmpConfig := filepath.Join(dir, "oapi-codegen.yaml")
	if err := os.WriteFile(tmpConfig, bytes.Replace(config, []byte(outputLine), []byte("\noutput: "+fresh+"\n"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "tool", "oapi-codegen", "-config", tmpConfig, filepath.Join("..", "..", "docs", "openapi.yaml"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen cannot generate a client from docs/openapi.yaml: %v\n%s", err, out)
	}
	want, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		line := 0
		for line < len(gl) && line < len(wl) && gl[line] == wl[line] {
			line++
		}
		t.Fatalf("api/client/client.gen.go is stale: docs/openapi.yaml generates a different client "+
			"(first difference at line %d). Run: go generate ./api/client", line+1)
	}
}

// TestComponentNamesLeaveRoomForTheClient: oapi-codegen derives names from each operation ID
// (the response wrapper <Op>Response, <Op>Params, the request body <Op>JSONBody and
// <Op>JSONRequestBody, and per-status response headers). A component of the same name makes a
// client that does not compile; this test names the clash instead.
func TestComponentNamesLeaveRoomForTheClient(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join("..", "..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	components := map[string]string{}
	for kind, names := range map[string][]string{
		"schema":    slices.Collect(maps.Keys(doc.Components.Schemas)),
		"response":  slices.Collect(maps.Keys(doc.Components.Responses)),
		"parameter": slices.Collect(maps.Keys(doc.Components.Parameters)),
		"body":      slices.Collect(maps.Keys(doc.Components.RequestBodies)),
		"header":    slices.Collect(maps.Keys(doc.Components.Headers)),
	} {
		for _, n := range names {
			components[typeName(n)] = kind + " " + n
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			base := typeName(op.OperationID)
			for _, derived := range []string{base + "Response", base + "Params", base + "JSONBody", base + "JSONRequestBody"} {
				if c, clash := components[derived]; clash {
					t.Errorf("%s %s (operationId %s): the client's type %s clashes with %s; rename the component",
						method, path, op.OperationID, derived, c)
				}
			}
			for _, c := range components {
				if strings.HasPrefix(c, "schema "+base+"Response") && c != "schema "+base+"Response" {
					t.Errorf("%s %s (operationId %s): %s looks like the client's response types; rename it", method, path, op.OperationID, c)
				}
			}
		}
	}
}

// typeName is the Go name oapi-codegen gives a component or an operation ID.
func typeName(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
