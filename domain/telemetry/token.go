package telemetry

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"
)

// Token formats. A token names what it opens, so that a server finds the stream to check it
// against without an index, then compares the SHA-256 of the whole token with the hash recorded
// in the log (the token itself is never stored):
//
//	enrollment: yet1.<customerNumber>.<secret>
//	agent:      yat1.<customerNumber>.<terminalId>.<secret>
//
// The secret is 32 random bytes in unpadded base64url.
const (
	enrollmentPrefix = "yet1"
	agentPrefix      = "yat1"
	secretBytes      = 32
)

// HashToken is the stored form of a token: hex SHA-256. Tokens carry 256 random bits, so a
// fast hash is enough (nothing to guess), and it is cheap on every agent request.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newSecret(random io.Reader) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("telemetry: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewEnrollmentToken makes an enrollment token for a contract.
func NewEnrollmentToken(customerNumber string, random io.Reader) (string, error) {
	s, err := newSecret(random)
	if err != nil {
		return "", err
	}
	return enrollmentPrefix + "." + customerNumber + "." + s, nil
}

// NewAgentToken makes a terminal's agent token.
func NewAgentToken(customerNumber string, terminalID uuid.UUID, random io.Reader) (string, error) {
	s, err := newSecret(random)
	if err != nil {
		return "", err
	}
	return agentPrefix + "." + customerNumber + "." + terminalID.String() + "." + s, nil
}

// EnrollmentTokenContract returns the customer number an enrollment token names; ok is false for
// anything that is not shaped like one (an outright bad token).
func EnrollmentTokenContract(token string) (customerNumber string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != enrollmentPrefix || !validCustomerNumber(parts[1]) || len(parts[2]) != 43 {
		return "", false
	}
	return parts[1], true
}

// AgentTokenTerminal returns the contract and terminal an agent token names.
func AgentTokenTerminal(token string) (customerNumber string, terminalID uuid.UUID, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 4 || parts[0] != agentPrefix || !validCustomerNumber(parts[1]) || len(parts[3]) != 43 {
		return "", uuid.Nil, false
	}
	id, err := uuid.Parse(parts[2])
	if err != nil || id.String() != parts[2] {
		return "", uuid.Nil, false
	}
	return parts[1], id, true
}

// validCustomerNumber: N and 9 digits.
func validCustomerNumber(s string) bool {
	if len(s) != 10 || s[0] != 'N' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
