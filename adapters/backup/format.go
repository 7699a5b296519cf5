// Package backup writes and reads backup files of the event log: one file holding every event of
// one committed state of the log, checked against the hash chains as it is written and again
// as it is read, and restores such a file into an empty store of any engine.
//
// # The file (format version 1)
//
// UTF-8 text, one JSON object per line, each line ending in "\n" (JSON Lines), in three parts:
//
//		{"format":"yorozu-backup","version":1,"engine":"embedded","head":1234,"createdAt":"2026-11-15T00:30:00.123456789Z"}
//		{"position":1,"id":"…","stream":"staff-alice","streamVersion":1,"type":"StaffAdded","schemaVersion":1,"effectiveAt":"…","recordedAt":"…","actor":"system","commandId":"…","correlationId":"","causationId":"","prevHash":"00…","hash":"3f…","data":{…}}
//		… one line per event, in position order …
//		{"end":true,"events":1233,"sha256":"9a…"}
//
//	  - The header names the format and its version, the engine the log was read from, the head
//	    of the log in that state (its last position: every event up to it is in the file, none
//	    after it), and when the backup was taken.
//	  - Each event line is the whole envelope: event ID, stream and version, type and schema
//	    version, the global position, effective and recorded times (RFC 3339, UTC, at most
//	    microseconds), actor, command, correlation and causation IDs, the previous event's hash
//	    and the event's hash (SHA-256, hex). "data" is the event's payload byte for byte as the
//	    store holds it, embedded as JSON; a payload that cannot be embedded so (not a single-line
//	    JSON value) is written as "dataBase64" instead.
//	  - The end line counts the events and holds the SHA-256 (hex) of every byte of the file
//	    before it. A file without it, or whose count or checksum does not match, or with anything
//	    after it, is incomplete or damaged.
//
// Keys appear in the order above; readers accept any order and refuse unknown keys. Nothing but
// events is in the file: no key, no read model, no secret in plain text (what events hold is
// already sealed or hashed).
//
// A file whose first two bytes are gzip's magic number is read through gzip, so a backup can be
// compressed with gzip(1) and restored as it is.
package backup

import (
	"errors"
	"time"

	"yorozu/domain/event"
)

// Format and Version identify the file format in the header line.
const (
	Format  = "yorozu-backup"
	Version = 1
)

// Engine names, as written in the header.
const (
	EngineEmbedded    = "embedded"
	EnginePostgres    = "postgres"
	EngineEventStore  = "eventstoredb"
	engineUnspecified = "unknown"
)

var (
	// ErrDamaged: the file is not a complete, intact backup (truncated, altered, not a backup
	// at all, or an event breaks a hash chain).
	ErrDamaged = errors.New("backup: damaged file")
	// ErrBrokenChain: the log being backed up breaks a hash chain; no file is written.
	ErrBrokenChain = errors.New("backup: the event log breaks a hash chain")
)

// Header is the first line of a backup file.
type Header struct {
	Format    string
	Version   int
	Engine    string
	Head      event.Position
	CreatedAt time.Time
}

// Summary describes a backup file: what `yorozu backup` prints (File, Events, SHA256) and more.
type Summary struct {
	// File is the path of the backup file.
	File string `json:"file"`
	// Events is how many events it holds.
	Events int `json:"events"`
	// SHA256 is the hex SHA-256 of the whole file, as sha256sum(1) prints it.
	SHA256 string `json:"sha256"`
	// Head is the position of the log's state in the file (every event up to it).
	Head event.Position `json:"-"`
	// Engine is the engine the log was read from.
	Engine string `json:"-"`
	// CreatedAt is when the backup was taken.
	CreatedAt time.Time `json:"-"`
}
