package api

import (
	"encoding/json"

	"yorozu/domain/event"
)

// eventData is a stored event's data as it may leave the service: without the fields its type
// declares secret (password and token hashes, sealed TOTP secrets, form passwords). Every
// handler that shows event data shows this, never rec.Data.
func (s *Server) eventData(rec event.Record) json.RawMessage {
	return s.Codec.Redact(rec.Type, rec.Data)
}
