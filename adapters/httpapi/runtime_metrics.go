package httpapi

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/runnable/runnable/app"
)

// RuntimeMetrics are the runtime's Prometheus collectors (spec §9.4):
// container operations, saves, cleanup deletions and open terminals. It is
// the app's Recorder (app.Deps.Metrics); register it on the registry the
// Server serves. runnable_containers_running is the Server's own.
type RuntimeMetrics struct {
	ops            *prometheus.CounterVec
	opDuration     *prometheus.HistogramVec
	saves          *prometheus.CounterVec
	saveDuration   prometheus.Histogram
	cleanupDeleted prometheus.Counter
	terminals      prometheus.Gauge
}

var _ app.Recorder = (*RuntimeMetrics)(nil)

// NewRuntimeMetrics registers the runtime's collectors on reg.
func NewRuntimeMetrics(reg prometheus.Registerer) (*RuntimeMetrics, error) {
	m := &RuntimeMetrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "runnable_container_ops_total", Help: "Container backend calls by operation and result (ok, not_found, unavailable, error).",
		}, []string{"op", "result"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "runnable_container_op_duration_seconds", Help: "Container backend call duration by operation.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"op"}),
		saves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "runnable_saves_total", Help: "Finished save jobs by result (ok, failed).",
		}, []string{"result"}),
		saveDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "runnable_save_duration_seconds", Help: "Save job duration.",
			Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900},
		}),
		cleanupDeleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "runnable_cleanup_deleted_drafts_total", Help: "Drafts deleted by cleanup runs.",
		}),
		terminals: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "runnable_terminal_connections", Help: "Open terminal WebSockets in this process.",
		}),
	}
	for _, c := range []prometheus.Collector{m.ops, m.opDuration, m.saves, m.saveDuration, m.cleanupDeleted, m.terminals} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ContainerOp implements app.Recorder.
func (m *RuntimeMetrics) ContainerOp(op, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.ops.WithLabelValues(op, result).Inc()
	m.opDuration.WithLabelValues(op).Observe(d.Seconds())
}

// Save implements app.Recorder.
func (m *RuntimeMetrics) Save(result string, d time.Duration) {
	if m == nil {
		return
	}
	m.saves.WithLabelValues(result).Inc()
	m.saveDuration.Observe(d.Seconds())
}

// CleanupDeletedDrafts implements app.Recorder.
func (m *RuntimeMetrics) CleanupDeletedDrafts(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.cleanupDeleted.Add(float64(n))
}

// TerminalConnections implements app.Recorder.
func (m *RuntimeMetrics) TerminalConnections(delta int) {
	if m == nil {
		return
	}
	m.terminals.Add(float64(delta))
}
