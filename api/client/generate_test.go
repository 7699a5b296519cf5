package client

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
