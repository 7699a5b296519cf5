package client

// The client is generated from docs/openapi.yaml by oapi-codegen, a tool dependency of the module
// (the `tool` line in go.mod), so it runs from the module cache at the version go.mod pins:
//
//	go generate ./api/client
//
// TestGeneratedClientIsCurrent fails when client.gen.go differs from what the document generates
// now: regenerate after every change to docs/openapi.yaml. docs/decisions.md says why the code is
// committed.

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../../docs/openapi.yaml
