package event

import "fmt"

// ExpectedVersion is the optimistic-concurrency condition of an append.
type ExpectedVersion struct {
	kind    expectKind
	version uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectExact
)

// Any appends whatever the stream holds.
func Any() ExpectedVersion { return ExpectedVersion{kind: expectAny} }

// NoStream appends only if the stream has no event yet.
func NoStream() ExpectedVersion { return ExpectedVersion{kind: expectNoStream} }

// Exactly appends only if the stream's last version is v. Exactly(0) is the same as NoStream.
func Exactly(v uint64) ExpectedVersion {
	if v == 0 {
		return NoStream()
	}
	return ExpectedVersion{kind: expectExact, version: v}
}

// IsAny reports whether the condition accepts any current version.
func (e ExpectedVersion) IsAny() bool { return e.kind == expectAny }

// Version returns the stream version the condition requires, and false for Any.
// NoStream requires version 0.
func (e ExpectedVersion) Version() (uint64, bool) {
	switch e.kind {
	case expectNoStream:
		return 0, true
	case expectExact:
		return e.version, true
	}
	return 0, false
}

// Allows reports whether a stream whose last version is current satisfies the condition.
func (e ExpectedVersion) Allows(current uint64) bool {
	v, ok := e.Version()
	return !ok || v == current
}

func (e ExpectedVersion) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectExact:
		return fmt.Sprintf("version %d", e.version)
	}
	return "any"
}
