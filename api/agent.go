package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/telemetry"
)

// pollIntervalSeconds is how often agents upload (15 minutes).
const pollIntervalSeconds = 900

// enrollBody is what an agent sends to enroll.
type enrollBody struct {
	EnrollmentToken      string       `json:"enrollmentToken"`
	Hostname             string       `json:"hostname"`
	HardwareID           string       `json:"hardwareId"`
	OS                   telemetry.OS `json:"os"`
	AssetManagementTools []string     `json:"assetManagementTools"`
}

func (s *Server) agentEnroll(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, httpx.APIBodyLimit)
	var body enrollBody
	if err := httpx.DecodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	m := meta(r)
	m.Actor = "agent"
	out, err := s.App.Commands.EnrollTerminal.Handle(r.Context(), commands.EnrollTerminal{
		Meta: m, EnrollmentToken: body.EnrollmentToken,
		Enrollment: telemetry.Enrollment{Hostname: body.Hostname, HardwareID: body.HardwareID, OS: body.OS,
			AssetManagementTools: body.AssetManagementTools},
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusCreated), map[string]any{
		"terminalId": out.TerminalID.String(), "agentToken": out.AgentToken, "pollIntervalSeconds": pollIntervalSeconds})
}

// ingestJSON is the answer to an upload.
type ingestJSON struct {
	BatchID   string            `json:"batchId"`
	Accepted  int               `json:"accepted"`
	Duplicate bool              `json:"duplicate"`
	Dropped   telemetry.Dropped `json:"dropped"`
}

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// errTooLarge: a batch over telemetry.MaxBatchBytes, compressed or not.
var errTooLarge = &http.MaxBytesError{Limit: telemetry.MaxBatchBytes}

func (s *Server) agentTelemetry(w http.ResponseWriter, r *http.Request) {
	token, ok := httpx.BearerToken(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", "Bearer")
		s.fail(w, r, telemetry.ErrBadAgentToken)
		return
	}
	term, err := s.App.Queries.Agents.Authenticate(r.Context(), token)
	if err != nil {
		if errors.Is(err, telemetry.ErrBadAgentToken) {
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
		s.fail(w, r, err)
		return
	}
	received := s.Clock()
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 4*telemetry.MaxBatchBytes {
			buf.Reset()
			bodyBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if err := readBatch(w, r, buf); err != nil {
		s.fail(w, r, err)
		return
	}
	batch, err := telemetry.DecodeUpload(buf.Bytes(), received)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m := meta(r)
	m.Actor = term.ID.String()
	out, err := s.App.Commands.IngestTelemetry.Handle(r.Context(), commands.IngestTelemetry{
		Meta: m, Terminal: term, Batch: batch, ReceivedAt: received})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := ingestJSON{BatchID: batch.BatchID.String(), Accepted: len(batch.Accepted), Duplicate: out.Duplicate, Dropped: batch.Dropped}
	if out.Duplicate {
		// Nothing was stored by this request.
		body.Accepted, body.Dropped = 0, telemetry.Dropped{}
	}
	writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusOK), body)
}

// readBatch reads an upload's body into buf, uncompressed (Content-Encoding gzip or none), at
// most telemetry.MaxBatchBytes of it: the limit applies to the decompressed stream, so a small
// gzip bomb stops at the limit instead of filling memory.
func readBatch(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &httpx.DecodeError{Status: http.StatusUnsupportedMediaType, Message: "send the batch as application/json"}
		}
	}
	if r.ContentLength > telemetry.MaxBatchBytes {
		return errTooLarge
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, telemetry.MaxBatchBytes)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return err
			}
			return &httpx.DecodeError{Status: http.StatusBadRequest, Message: "the body is not gzip: " + err.Error()}
		}
		defer zr.Close()
		body = zr
	default:
		return &httpx.DecodeError{Status: http.StatusUnsupportedMediaType, Message: "Content-Encoding may be gzip or none, not " + enc}
	}
	n, err := buf.ReadFrom(io.LimitReader(body, telemetry.MaxBatchBytes+1))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return &httpx.DecodeError{Status: http.StatusBadRequest, Message: "the body could not be read: " + err.Error()}
	}
	if n > telemetry.MaxBatchBytes {
		return errTooLarge
	}
	return nil
}
