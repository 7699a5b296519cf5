package esdb

// An in-memory fake of EventStoreDB's gRPC Streams service, so that the conformance suite can
// drive this store through the real client library where no server can run (CI here has none).
//
// It reproduces the server behaviour this store relies on, taken from the server's source and
// documentation: appends with expected revisions (and their idempotent retry), WrongExpectedVersion
// in the append response, tombstones reported through the "exception: stream-deleted" trailer,
// StreamNotFound for unknown streams, $tb and $maxAge applied to stream reads but not to $all,
// commit position = prepare position = the event's own place in the log, an inclusive start for
// forward reads of $all and an exclusive one for backward reads and subscriptions, and the
// server-side filter of subscriptions.
//
// Passing against it shows that the store's logic and its use of the client hold together. It
// shows nothing about EventStoreDB itself: TestConformance does that when YOROZU_TEST_ESDB_URL is
// set. Where the real server's answer is not documented (the position an append reports for a
// batch; whether a stream whose events are all removed reads as empty or as not found), the fake
// gives the answer the store must not rely on: the first event's position, and empty.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"yorozu/adapters/eventstore/storetest"
	"yorozu/domain/event"
)

type fakeServer struct {
	api.UnimplementedStreamsServer

	mu      sync.Mutex
	log     []*fakeEvent
	streams map[string]*fakeStream
	next    uint64        // position of the next record
	wake    chan struct{} // closed and replaced at every write, for live subscriptions
}

type fakeEvent struct {
	id       uuid.UUID
	stream   string
	revision uint64
	typ      string
	json     bool
	data     []byte
	meta     []byte
	pos      uint64
	created  time.Time
}

type fakeStream struct {
	events  []*fakeEvent
	deleted bool
}

// startFakeServer serves a fresh fake on a local port until the test ends and returns it with
// its connection string.
func startFakeServer(t *testing.T) (*fakeServer, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{streams: map[string]*fakeStream{}, next: 1000, wake: make(chan struct{})}
	srv := grpc.NewServer()
	api.RegisterStreamsServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return f, "esdb://" + lis.Addr().String() + "?tls=false"
}

// age moves the events of stream back in time by d, as if they had been written d earlier.
func (f *fakeServer) age(stream string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.streams[stream].events {
		e.created = e.created.Add(-d)
	}
}

// lastData is the data of the last event of a server stream, nil if it has none.
func (f *fakeServer) lastData(stream string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st := f.streams[stream]; st != nil && len(st.events) > 0 {
		return st.events[len(st.events)-1].data
	}
	return nil
}

// write adds events to a stream and to the log; the caller holds mu.
func (f *fakeServer) write(stream string, evs []*fakeEvent) {
	st := f.streams[stream]
	if st == nil {
		st = &fakeStream{}
		f.streams[stream] = st
	}
	for _, e := range evs {
		e.stream, e.pos, e.created = stream, f.next, time.Now()
		if e.revision == 0 {
			e.revision = uint64(len(st.events))
		}
		f.next += 137 // records have sizes: positions are not dense
		st.events = append(st.events, e)
		f.log = append(f.log, e)
	}
	close(f.wake)
	f.wake = make(chan struct{})
}

func (f *fakeServer) deletedLocked(stream string) bool {
	st := f.streams[strings.TrimPrefix(stream, "$$")]
	return st != nil && st.deleted
}

func streamDeleted(setTrailer func(metadata.MD), stream string) error {
	setTrailer(metadata.Pairs("exception", "stream-deleted", "stream-name", stream))
	return status.Errorf(codes.FailedPrecondition, "Event stream '%s' is deleted.", stream)
}

func (f *fakeServer) Append(srv api.Streams_AppendServer) error {
	first, err := srv.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	name := string(opts.GetStreamIdentifier().GetStreamName())
	var proposed []*api.AppendReq_ProposedMessage
	for {
		req, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		proposed = append(proposed, req.GetProposedMessage())
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deletedLocked(name) {
		return streamDeleted(srv.SetTrailer, name)
	}
	current := int64(-1)
	if st := f.streams[name]; st != nil {
		current = int64(len(st.events)) - 1
	}
	wrong := &api.AppendResp_WrongExpectedVersion{}
	expected, exact := int64(0), false
	switch e := opts.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_Any:
		wrong.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
	case *api.AppendReq_Options_NoStream:
		expected, exact = -1, true
		wrong.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case *api.AppendReq_Options_Revision:
		expected, exact = int64(e.Revision), true
		wrong.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: e.Revision}
	case *api.AppendReq_Options_StreamExists:
		if current < 0 {
			wrong.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
			return f.refuse(srv, wrong, current)
		}
	}
	evs := make([]*fakeEvent, len(proposed))
	for i, p := range proposed {
		s := p.GetId().GetStructured()
		id, err := esdbclient.ParseUUIDFromInt64(s.GetMostSignificantBits(), s.GetLeastSignificantBits())
		if err != nil {
			return status.Error(codes.InvalidArgument, "event id")
		}
		evs[i] = &fakeEvent{id: id, typ: p.GetMetadata()["type"], json: p.GetMetadata()["content-type"] == "application/json",
			data: p.GetData(), meta: p.GetCustomMetadata()}
	}
	if exact && expected != current {
		// The server's idempotence: the same event IDs right after the expected revision.
		if st := f.streams[name]; st != nil && expected < current && int64(len(st.events)) >= expected+1+int64(len(evs)) {
			same := true
			for i, e := range evs {
				same = same && st.events[expected+1+int64(i)].id == e.id
			}
			if same {
				return f.success(srv, uint64(expected)+uint64(len(evs)), st.events[expected+1].pos)
			}
		}
		return f.refuse(srv, wrong, current)
	}
	f.write(name, evs)
	return f.success(srv, evs[len(evs)-1].revision, evs[0].pos)
}

func (f *fakeServer) success(srv api.Streams_AppendServer, revision, pos uint64) error {
	return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
		CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: revision},
		PositionOption: &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{
			CommitPosition: pos, PreparePosition: pos}},
	}}})
}

func (f *fakeServer) refuse(srv api.Streams_AppendServer, wrong *api.AppendResp_WrongExpectedVersion, current int64) error {
	if current < 0 {
		wrong.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
	} else {
		wrong.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(current)}
	}
	return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: wrong}})
}

func (f *fakeServer) Tombstone(ctx context.Context, req *api.TombstoneReq) (*api.TombstoneResp, error) {
	name := string(req.GetOptions().GetStreamIdentifier().GetStreamName())
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deletedLocked(name) {
		return nil, streamDeleted(func(md metadata.MD) { _ = grpc.SetTrailer(ctx, md) }, name)
	}
	f.write(name, []*fakeEvent{{id: uuid.New(), typ: "$streamDeleted", revision: 1<<63 - 1, json: true}})
	f.streams[name].deleted = true
	pos := f.log[len(f.log)-1].pos
	return &api.TombstoneResp{PositionOption: &api.TombstoneResp_Position_{Position: &api.TombstoneResp_Position{
		CommitPosition: pos, PreparePosition: pos}}}, nil
}

func (f *fakeServer) Read(req *api.ReadReq, srv api.Streams_ReadServer) error {
	o := req.GetOptions()
	switch {
	case o.GetSubscription() != nil && o.GetAll() != nil:
		return f.subscribeAll(o, srv)
	case o.GetSubscription() != nil:
		return status.Error(codes.Unimplemented, "stream subscriptions are not faked")
	case o.GetStream() != nil:
		return f.readStream(o, srv)
	}
	return f.readAll(o, srv)
}

// readable is what a read of stream shows: $tb and $maxAge of its metadata applied.
func (f *fakeServer) readable(name string, st *fakeStream) []*fakeEvent {
	evs := st.events
	if strings.HasPrefix(name, "$$") {
		return evs
	}
	var tb, maxAge uint64
	if meta := f.streams["$$"+name]; meta != nil && len(meta.events) > 0 {
		var doc struct {
			TB     *uint64 `json:"$tb"`
			MaxAge *uint64 `json:"$maxAge"`
		}
		if json.Unmarshal(meta.events[len(meta.events)-1].data, &doc) == nil {
			if doc.TB != nil {
				tb = *doc.TB
			}
			if doc.MaxAge != nil {
				maxAge = *doc.MaxAge
			}
		}
	}
	var out []*fakeEvent
	for _, e := range evs {
		if e.revision >= tb && (maxAge == 0 || time.Since(e.created) < time.Duration(maxAge)*time.Second) {
			out = append(out, e)
		}
	}
	return out
}

func (f *fakeServer) readStream(o *api.ReadReq_Options, srv api.Streams_ReadServer) error {
	name := string(o.GetStream().GetStreamIdentifier().GetStreamName())
	f.mu.Lock()
	if f.deletedLocked(name) {
		f.mu.Unlock()
		return streamDeleted(srv.SetTrailer, name)
	}
	st := f.streams[name]
	if st == nil {
		f.mu.Unlock()
		return srv.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)}}}})
	}
	evs := f.readable(name, st)
	f.mu.Unlock()

	forwards := o.GetReadDirection() == api.ReadReq_Options_Forwards
	var picked []*fakeEvent
	switch r := o.GetStream().GetRevisionOption().(type) {
	case *api.ReadReq_Options_StreamOptions_Start:
		if forwards {
			picked = evs
		} else if len(evs) > 0 && evs[0].revision == 0 {
			picked = evs[:1]
		}
	case *api.ReadReq_Options_StreamOptions_End:
		if !forwards {
			picked = reversed(evs)
		}
	case *api.ReadReq_Options_StreamOptions_Revision:
		for _, e := range evs {
			if forwards && e.revision >= r.Revision {
				picked = append(picked, e)
			}
		}
		if !forwards {
			for _, e := range reversed(evs) {
				if e.revision <= r.Revision {
					picked = append(picked, e)
				}
			}
		}
	}
	return sendAll(srv, picked, o.GetCount())
}

func (f *fakeServer) readAll(o *api.ReadReq_Options, srv api.Streams_ReadServer) error {
	f.mu.Lock()
	evs := append([]*fakeEvent(nil), f.log...)
	f.mu.Unlock()
	forwards := o.GetReadDirection() == api.ReadReq_Options_Forwards
	var picked []*fakeEvent
	switch p := o.GetAll().GetAllOption().(type) {
	case *api.ReadReq_Options_AllOptions_Start:
		if forwards {
			picked = evs
		}
	case *api.ReadReq_Options_AllOptions_End:
		if !forwards {
			picked = reversed(evs)
		}
	case *api.ReadReq_Options_AllOptions_Position:
		c := p.Position.GetCommitPosition()
		if p.Position.GetPreparePosition() > c {
			return status.Error(codes.InvalidArgument, "prepare position after commit position")
		}
		for _, e := range evs {
			if forwards && e.pos >= c { // forwards from a position includes the event at it
				picked = append(picked, e)
			}
		}
		if !forwards {
			for _, e := range reversed(evs) {
				if e.pos < c { // backwards excludes it
					picked = append(picked, e)
				}
			}
		}
	}
	return sendAll(srv, picked, o.GetCount())
}

func (f *fakeServer) subscribeAll(o *api.ReadReq_Options, srv api.Streams_ReadServer) error {
	match, err := filterOf(o.GetFilter())
	if err != nil {
		return err
	}
	if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{
		SubscriptionId: uuid.NewString()}}}); err != nil {
		return err
	}
	var after uint64 // subscriptions start after their position
	f.mu.Lock()
	switch p := o.GetAll().GetAllOption().(type) {
	case *api.ReadReq_Options_AllOptions_Position:
		after = p.Position.GetCommitPosition()
	case *api.ReadReq_Options_AllOptions_End:
		after = f.next
	}
	f.mu.Unlock()
	caughtUp := false
	for {
		f.mu.Lock()
		var batch []*fakeEvent
		for _, e := range f.log {
			if e.pos > after && match(e) {
				batch = append(batch, e)
			}
		}
		if len(f.log) > 0 {
			after = max(after, f.log[len(f.log)-1].pos)
		}
		wake := f.wake
		f.mu.Unlock()
		for _, e := range batch {
			if err := srv.Send(e.proto()); err != nil {
				return err
			}
		}
		if !caughtUp {
			caughtUp = true
			if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-srv.Context().Done():
			return srv.Context().Err()
		case <-wake:
		}
	}
}

// filterOf is the server-side filter of a subscription: a regex or prefixes, on the stream name
// or the event type.
func filterOf(fo *api.ReadReq_Options_FilterOptions) (func(*fakeEvent) bool, error) {
	if fo == nil {
		return func(*fakeEvent) bool { return true }, nil
	}
	expr, onStream := fo.GetEventType(), false
	if fo.GetStreamIdentifier() != nil {
		expr, onStream = fo.GetStreamIdentifier(), true
	}
	var re *regexp.Regexp
	if expr.GetRegex() != "" {
		var err error
		if re, err = regexp.Compile(expr.GetRegex()); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
	}
	return func(e *fakeEvent) bool {
		subject := e.typ
		if onStream {
			subject = e.stream
		}
		if re != nil {
			return re.MatchString(subject)
		}
		for _, p := range expr.GetPrefix() {
			if strings.HasPrefix(subject, p) {
				return true
			}
		}
		return false
	}, nil
}

func (e *fakeEvent) proto() *api.ReadResp {
	most, least := esdbclient.UUIDAsInt64(e.id)
	contentType := "application/octet-stream"
	if e.json {
		contentType = "application/json"
	}
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
		Event: &api.ReadResp_ReadEvent_RecordedEvent{
			Id: &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
				MostSignificantBits: most, LeastSignificantBits: least}}},
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(e.stream)},
			StreamRevision:   e.revision,
			PreparePosition:  e.pos,
			CommitPosition:   e.pos,
			Metadata: map[string]string{
				"type":         e.typ,
				"content-type": contentType,
				"created":      strconv.FormatInt(e.created.UnixNano()/100, 10), // .NET ticks since the Unix epoch
			},
			CustomMetadata: e.meta,
			Data:           e.data,
		},
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: e.pos},
	}}}
}

func sendAll(srv api.Streams_ReadServer, evs []*fakeEvent, count uint64) error {
	for i, e := range evs {
		if uint64(i) >= count {
			break
		}
		if err := srv.Send(e.proto()); err != nil {
			return err
		}
	}
	return nil
}

func reversed(evs []*fakeEvent) []*fakeEvent {
	out := make([]*fakeEvent, len(evs))
	for i, e := range evs {
		out[len(evs)-1-i] = e
	}
	return out
}

func (f *fakeServer) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("fake EventStoreDB with %d events in %d streams", len(f.log), len(f.streams))
}

// TestSuiteAgainstProtocolFake runs the conformance suite through the real client library against
// the fake above. See the top of this file for what passing it does and does not show.
func TestSuiteAgainstProtocolFake(t *testing.T) {
	_, url := startFakeServer(t)
	quiet := slog.New(slog.DiscardHandler)
	storetest.Run(t, func(t *testing.T) event.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := Open(ctx, url, Options{Logger: quiet})
		if err != nil {
			t.Fatalf("open the fake: %v", err)
		}
		return s
	})
}

// TestTransferAgainstProtocolFake runs the import conformance tests against a fresh fake per test
// (an import needs an empty store).
func TestTransferAgainstProtocolFake(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	storetest.RunTransfer(t, func(t *testing.T) event.Store {
		_, url := startFakeServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := Open(ctx, url, Options{Logger: quiet})
		if err != nil {
			t.Fatalf("open the fake: %v", err)
		}
		return s
	}, storetest.ImportOptions{NewPositions: true, NotAtomic: true, WholeStreamsOnly: true})
}
