package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"yorozu/api/httpx"
	"yorozu/projections"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyLagBound is how far behind the log a projection may be and still count as ready.
const readyLagBound = 1000

type projectionStatus struct {
	Name       string         `json:"name"`
	Checkpoint uint64         `json:"checkpoint"`
	Head       uint64         `json:"head"`
	Lag        uint64         `json:"lag"`
	CaughtUp   bool           `json:"caughtUp"`
	Error      string         `json:"error,omitempty"`
	StoppedOn  *stoppedOnJSON `json:"stoppedOn,omitempty"`
}

// stoppedOnJSON names the stored event a projection cannot apply.
type stoppedOnJSON struct {
	Type          string `json:"type"`
	Stream        string `json:"stream"`
	StreamVersion uint64 `json:"streamVersion"`
	Position      uint64 `json:"position"`
}

// maxErrorText bounds the error text /readyz shows of a failing projection.
const maxErrorText = 300

// readyz: the store answers, and every projection has caught up once and is within the bound.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ready := true
	body := map[string]any{}
	if _, err := s.Log.Head(r.Context()); err != nil {
		ready = false
		body["store"] = "unreachable"
	} else {
		body["store"] = "ok"
	}
	var list []projectionStatus
	for _, st := range s.Runner.Statuses() {
		ps := projectionStatus{Name: st.Name, Checkpoint: uint64(st.Checkpoint), Head: uint64(st.Head), Lag: st.Lag, CaughtUp: st.CaughtUp}
		if st.Err != nil {
			ps.Error = "failing; see the service log"
		}
		if a := st.Stalled; a != nil {
			ps.StoppedOn = &stoppedOnJSON{Type: a.Type, Stream: a.Stream, StreamVersion: a.Version, Position: uint64(a.Position)}
			ps.Error = a.Err.Error()
			if len(ps.Error) > maxErrorText {
				ps.Error = ps.Error[:maxErrorText] + "…"
			}
		}
		if !st.CaughtUp || st.Lag > readyLagBound || st.Err != nil {
			ready = false
		}
		list = append(list, ps)
	}
	body["projections"] = list
	if s.Integrity != nil {
		if u := s.Integrity.Undecodable(); u != nil {
			// Projections that do not follow its type go on; those that do stop on it (above).
			ready = false
			body["undecodable"] = map[string]any{"type": u.Type, "stream": u.Stream, "streamVersion": u.StreamVersion,
				"position": uint64(u.Position), "error": u.Reason}
		}
	}
	status := http.StatusOK
	body["status"] = "ready"
	if !ready {
		status = http.StatusServiceUnavailable
		body["status"] = "notReady"
	}
	httpx.WriteJSON(w, status, body)
}

// registerProjectionMetrics exports each projection's checkpoint and lag, read at scrape time.
func registerProjectionMetrics(reg prometheus.Registerer, runner *projections.Runner) error {
	lag := prometheus.NewDesc("yorozu_projection_lag_events", "Events appended but not yet processed by the projection.", []string{"projection"}, nil)
	pos := prometheus.NewDesc("yorozu_projection_checkpoint", "Global position the projection has processed through.", []string{"projection"}, nil)
	stopped := prometheus.NewDesc("yorozu_projection_stopped_position", "Global position of the event the projection cannot apply (absent while healthy).", []string{"projection", "type", "stream"}, nil)
	head := prometheus.NewDesc("yorozu_event_log_head", "Global position of the last event appended.", nil, nil)
	return reg.Register(collectorFunc{
		descs: []*prometheus.Desc{lag, pos, head, stopped},
		collect: func(ch chan<- prometheus.Metric) {
			sts := runner.Statuses()
			for _, st := range sts {
				ch <- prometheus.MustNewConstMetric(lag, prometheus.GaugeValue, float64(st.Lag), st.Name)
				ch <- prometheus.MustNewConstMetric(pos, prometheus.GaugeValue, float64(st.Checkpoint), st.Name)
				if a := st.Stalled; a != nil {
					ch <- prometheus.MustNewConstMetric(stopped, prometheus.GaugeValue, float64(a.Position), st.Name, a.Type, a.Stream)
				}
			}
			if len(sts) > 0 {
				ch <- prometheus.MustNewConstMetric(head, prometheus.GaugeValue, float64(sts[0].Head))
			}
		},
	})
}

type collectorFunc struct {
	descs   []*prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }
