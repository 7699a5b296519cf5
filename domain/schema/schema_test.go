package schema_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"yorozu/domain/access"
	"yorozu/domain/event"
	"yorozu/domain/event/eventtest"
	"yorozu/domain/schema"
)

// Every field of every event that looks like it holds a secret (a *Hash, *Sealed*, password*,
// token*, secret* field) declares whether it does. A new event with an undeclared token hash
// fails here, before its hash can reach the audit trail.
func TestEverySecretLookingFieldIsDeclared(t *testing.T) {
	if undeclared := schema.Registry().UndeclaredSecrets(); len(undeclared) > 0 {
		t.Fatalf("event fields that look like secrets but declare neither `secret:\"KIND\"` (removed from "+
			"every outlet) nor `secret:\"-\"` (not a secret):\n  %s", strings.Join(undeclared, "\n  "))
	}
}

// The heuristic itself: a field named like the secrets the service stores, or will store (agent
// and enrollment token hashes), is caught.
func TestUndeclaredSecretsAreCaught(t *testing.T) {
	type inner struct {
		EnrollmentTokenHash string `json:"enrollmentTokenHash"`
	}
	type AgentEnrolled struct {
		TerminalID     string `json:"terminalId"`
		AgentTokenHash string `json:"agentTokenHash"`
		Details        inner  `json:"details"`
		Declared       string `json:"passwordHash" secret:"hash"`
		NotOne         int    `json:"tokensBought" secret:"-"`
	}
	r := event.NewRegistry()
	r.Register((*AgentEnrolled)(nil))
	got := r.UndeclaredSecrets()
	want := []string{"AgentEnrolled.agentTokenHash", "AgentEnrolled.details.enrollmentTokenHash"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("undeclared = %v, want %v", got, want)
	}
	if got := r.SecretFields("AgentEnrolled"); !reflect.DeepEqual(got, []string{"passwordHash"}) {
		t.Fatalf("secret fields = %v", got)
	}
}

// For every registered event type, a sample with every secret field filled loses all of them
// in Redact, keeps its other fields, and still decodes as the same type.
func TestRedactRemovesEverySecretOfEveryEventType(t *testing.T) {
	codec := schema.Registry()
	samples, err := eventtest.Samples(codec, map[reflect.Type]any{reflect.TypeFor[access.Role](): access.RoleOperator})
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != len(codec.Names()) {
		t.Fatalf("%d samples for %d types", len(samples), len(codec.Names()))
	}
	withSecrets := 0
	for _, s := range samples {
		typ, data, err := codec.Encode(s.Event)
		if err != nil {
			t.Fatalf("%s: %v", s.Type, err)
		}
		for _, secret := range s.Secrets {
			if !strings.Contains(string(data), secret) {
				t.Fatalf("%s: the sample's data lacks its own secret %q: %s", s.Type, secret, data)
			}
		}
		if len(s.Secrets) > 0 {
			withSecrets++
		}
		out := codec.Redact(typ, data)
		for _, secret := range s.Secrets {
			if strings.Contains(string(out), secret) {
				t.Errorf("%s: redacted data still holds %q: %s", s.Type, secret, out)
			}
		}
		for _, v := range s.Visible {
			if !strings.Contains(string(out), v) {
				t.Errorf("%s: redaction removed the non-secret value %q: %s", s.Type, v, out)
			}
		}
		if _, err := codec.Decode(event.Record{Type: typ, Data: out}); err != nil {
			t.Errorf("%s: redacted data no longer decodes: %v", s.Type, err)
		}
	}
	// StaffAdded, StaffLoggedIn, StaffLoggedOut, StaffPasswordChanged, StaffTOTPReset,
	// APIKeyCreated, OrderReceived, OrderAmended, ContractOpened, ContractChanged at least.
	if withSecrets < 10 {
		t.Fatalf("only %d event types declare secrets", withSecrets)
	}
}

// Redact fails closed: data of a type nobody registered, or that is not JSON, is withheld.
func TestRedactWithholdsWhatItCannotVouchFor(t *testing.T) {
	codec := schema.Registry()
	if out := codec.Redact("SomethingNew", json.RawMessage(`{"tokenHash":"abc"}`)); out != nil {
		t.Fatalf("unknown type: %s", out)
	}
	if out := codec.Redact(access.TypeStaffAdded, json.RawMessage(`{"passwordHash":`)); out != nil {
		t.Fatalf("broken data: %s", out)
	}
	if out := codec.Redact(access.TypeLoginFailed, json.RawMessage(`{"staffId":"a","reason":"wrongOtp","at":"2025-07-01T00:00:00Z"}`)); !strings.Contains(string(out), `"reason":"wrongOtp"`) {
		t.Fatalf("a type without secrets lost its data: %s", out)
	}
}
