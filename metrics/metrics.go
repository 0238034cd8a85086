// Package metrics exposes what the server is doing as Prometheus metrics,
// with a health endpoint beside them. It learns about the rooms as a
// listener of their events (all rooms together: no series per room, so
// that a thousand rooms do not make a thousand series) and about
// connections and the log through small hooks; it knows nothing of SSH or
// terminals.
package metrics

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sshchat/sshchat/hub"
)

// Metrics holds the server's metrics in a registry of its own.
type Metrics struct {
	reg          *prometheus.Registry
	sessions     prometheus.Gauge
	users        prometheus.Gauge
	events       *prometheus.CounterVec
	evictions    prometheus.Counter
	throttled    prometheus.Counter
	refused      *prometheus.CounterVec
	authFailures prometheus.Counter
	logAppend    prometheus.Histogram
	logBytes     prometheus.Counter
	done         chan struct{} // closed when the listener goroutine has ended
}

// New makes the metrics; Watch connects them to the hub.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sshchat_sessions", Help: "Sessions in rooms, every room added up: a session in three rooms counts three.",
		}),
		users: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sshchat_users", Help: "Users with at least one session in a room, every room added up.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sshchat_events_total", Help: "Events through the hub, by type.",
		}, []string{"type"}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sshchat_evictions_total", Help: "Sessions evicted: too far behind the room, or their client stopped reading.",
		}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sshchat_throttled_messages_total", Help: "Messages refused by the rate limit.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sshchat_refused_total", Help: "Connections or sessions turned away, by reason.",
		}, []string{"reason"}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sshchat_auth_failures_total", Help: "SSH handshakes that failed authentication.",
		}),
		logAppend: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sshchat_log_append_seconds",
			Help:    "Time to write one batch of events to the event log.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 4, 10), // 50µs to ~13s
		}),
		logBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sshchat_log_bytes_total", Help: "Bytes appended to the event log.",
		}),
		done: make(chan struct{}),
	}
	m.reg.MustRegister(
		m.sessions, m.users, m.events, m.evictions, m.throttled, m.refused,
		m.authFailures, m.logAppend, m.logBytes,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for _, t := range []string{hub.EventTypeMessage, hub.EventTypeJoin, hub.EventTypeAdd,
		hub.EventTypeRemove, hub.EventTypeLeave, hub.EventTypeClose} {
		m.events.WithLabelValues(t) // every type shows, at 0 until it happens
	}
	return m
}

// Hub is what Watch needs of the hub.
type Hub interface {
	AttachListener(chan<- hub.Event)
	QueueLen() int
	Stats() hub.Stats
}

// Watch counts the hub's events as one of its listeners and reports its
// queue depth at each scrape. The listening goroutine ends when the hub
// closes; Wait waits for it. Call Watch once.
func (m *Metrics) Watch(h Hub) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sshchat_hub_queue_depth", Help: "Requests waiting for the hub.",
	}, func() float64 { return float64(h.QueueLen()) }))
	// Sessions behind their channel are not in trouble yet (a storm puts
	// many there for a moment); many staying there is worth a look.
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sshchat_hub_lagging_sessions", Help: "Sessions with events queued in the hub behind their channel.",
	}, func() float64 { return float64(h.Stats().Lagging) }))
	ch := make(chan hub.Event, 256)
	go func() {
		defer close(m.done)
		for ev := range ch {
			m.observe(ev)
		}
	}()
	h.AttachListener(ch)
}

// Wait returns when the listener has seen the hub close, or with ctx's
// error when ctx ends first.
func (m *Metrics) Wait(ctx context.Context) error {
	select {
	case <-m.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Log is what WatchLog needs of the event log.
type Log interface {
	Healthy() error     // nil while events are written as they come
	Pending() int       // events accepted and not yet written
	WriteErrors() int64 // failed writes and fsyncs so far
}

// WatchLog reports the event log's health at each scrape: whether it
// writes (sshchat_log_healthy, 0 while the disk is full and new messages
// are refused), what waits to be written, and the failed attempts.
func (m *Metrics) WatchLog(l Log) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sshchat_log_healthy",
			Help: "1 while the event log writes events as they come, 0 while it cannot (new messages are refused).",
		}, func() float64 {
			if l.Healthy() != nil {
				return 0
			}
			return 1
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sshchat_log_pending_events", Help: "Events accepted and not yet written to the event log.",
		}, func() float64 { return float64(l.Pending()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sshchat_log_write_errors_total", Help: "Failed writes and fsyncs of the event log, each retried.",
		}, func() float64 { return float64(l.WriteErrors()) }),
	)
}

func (m *Metrics) observe(ev hub.Event) {
	m.events.WithLabelValues(ev.Type).Inc()
	switch ev.Type {
	case hub.EventTypeJoin:
		m.users.Inc()
		m.sessions.Inc()
	case hub.EventTypeAdd:
		m.sessions.Inc()
	case hub.EventTypeRemove, hub.EventTypeLeave:
		m.sessions.Dec()
		if ev.Type == hub.EventTypeLeave {
			m.users.Dec()
		}
		if strings.HasPrefix(ev.Reason, "evicted") {
			m.evictions.Inc()
		}
	case hub.EventTypeClose:
		m.sessions.Set(0)
		m.users.Set(0)
	}
}

// Refused counts a connection or session turned away for reason.
func (m *Metrics) Refused(reason string) { m.refused.WithLabelValues(reason).Inc() }

// AuthFailed counts a failed authentication.
func (m *Metrics) AuthFailed() { m.authFailures.Inc() }

// Throttled counts a message refused by the rate limit.
func (m *Metrics) Throttled() { m.throttled.Inc() }

// Appended records one batch written to the event log; it fits
// history.Options.OnAppend.
func (m *Metrics) Appended(_, bytes int, took time.Duration) {
	m.logAppend.Observe(took.Seconds())
	m.logBytes.Add(float64(bytes))
}

// Handler serves /metrics and /healthz. healthy tells whether the server is
// serving; /healthz answers 200 "ok" or 503 with the error.
func (m *Metrics) Handler(healthy func() error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := healthy(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
