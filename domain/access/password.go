package access

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams is the argon2id cost of new password hashes. Verification reads the cost from
// the stored PHC string, so raising it later leaves existing hashes valid.
type PasswordParams struct {
	// MemoryKiB is the memory cost in KiB.
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// DefaultPasswordParams is the second recommended setting of RFC 9106 (section 4): 64 MiB,
// 3 passes, 4 lanes, which takes well under a second on a server and makes offline guessing
// of a stolen event log expensive.
var DefaultPasswordParams = PasswordParams{MemoryKiB: 64 * 1024, Iterations: 3, Parallelism: 4}

// Password length bounds. With a second factor, NIST SP 800-63B asks for at least 8 characters;
// the upper bound only keeps the hashing input sane.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 1024
)

const (
	saltLen = 16
	keyLen  = 32
	// maxMemoryKiB refuses to verify against a (corrupt) hash that asks for more than 1 GiB.
	maxMemoryKiB = 1 << 20
)

var b64 = base64.RawStdEncoding

// KeyFunc computes an argon2id key as argon2.IDKey does. Policy.Argon2 lets the application
// bound how many run at once (each holds its memory cost, 64 MiB by default, while it runs) and
// remember results within one attempt; it may refuse (too many waiting), and the decision then
// fails with its error as it is.
type KeyFunc func(password, salt []byte, p PasswordParams, keyLen uint32) ([]byte, error)

// IDKey is the plain KeyFunc: argon2.IDKey, unbounded.
func IDKey(password, salt []byte, p PasswordParams, keyLen uint32) ([]byte, error) {
	return argon2.IDKey(password, salt, p.Iterations, p.MemoryKiB, p.Parallelism, keyLen), nil
}

func (p PasswordParams) orDefault() PasswordParams {
	if p.MemoryKiB == 0 || p.Iterations == 0 || p.Parallelism == 0 {
		return DefaultPasswordParams
	}
	return p
}

// hashPassword returns the PHC string $argon2id$v=19$m=..,t=..,p=..$salt$hash.
func hashPassword(password string, p PasswordParams, random io.Reader, key KeyFunc) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(random, salt); err != nil {
		return "", fmt.Errorf("access: read salt: %w", err)
	}
	k, err := key([]byte(password), salt, p, keyLen)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(k)), nil
}

// verifyPassword reports whether password matches the PHC string, comparing in constant time.
func verifyPassword(password, encoded string, key KeyFunc) (bool, error) {
	p, salt, want, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	got, err := key([]byte(password), salt, p, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// decoySalt salts the hash spent on a login that has no stored hash to check (an unknown or
// disabled staff ID): the same work as a real check, whose result is thrown away.
var decoySalt = []byte("yorozu/decoy/v1!")

func parsePHC(encoded string) (PasswordParams, []byte, []byte, error) {
	var p PasswordParams
	bad := func(why string) (PasswordParams, []byte, []byte, error) {
		return p, nil, nil, fmt.Errorf("%w: password hash: %s", ErrCorruptSecret, why)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return bad("not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return bad("unsupported version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil {
		return bad("unreadable parameters")
	}
	if p.MemoryKiB == 0 || p.MemoryKiB > maxMemoryKiB || p.Iterations == 0 || p.Parallelism == 0 {
		return bad("parameters out of range")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return bad("unreadable salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return bad("unreadable key")
	}
	return p, salt, key, nil
}

// CustomerPasswordParams is the argon2id cost for customers' login passwords taken from order
// forms (OWASP's minimum: 19 MiB, 2 passes, 1 lane): orders are submitted in bursts, and a
// burst of staff-strength hashes would cost gigabytes of memory at once.
var CustomerPasswordParams = PasswordParams{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

// HashPassword returns the argon2id PHC string of password with cost p (random is the salt
// source, crypto/rand.Reader in production).
func HashPassword(password string, p PasswordParams, random io.Reader) (string, error) {
	return hashPassword(password, p.orDefault(), random, IDKey)
}

// VerifyPassword reports whether password matches a PHC string made by HashPassword.
func VerifyPassword(password, encoded string) (bool, error) {
	return verifyPassword(password, encoded, IDKey)
}
