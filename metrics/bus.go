package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Bus is the metrics of the bus between nodes; it is what the cluster
// package reports to (cluster.Observer). Its methods are safe for
// concurrent use.
type Bus struct {
	publish    prometheus.Histogram
	lag        prometheus.Gauge
	reconnects prometheus.Counter
	heartbeats *prometheus.CounterVec
	gaps       prometheus.Counter
}

// WatchBus registers the metrics of the bus between nodes and returns
// what reports to them. Call it once, with several nodes only.
func (m *Metrics) WatchBus() *Bus {
	b := &Bus{
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sshchat_bus_publish_seconds",
			Help:    "Time from publishing an event to the stream's acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 4, 10), // 50µs to ~13s
		}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sshchat_bus_consumer_lag", Help: "Events in the stream this node has not read yet.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sshchat_bus_reconnects_total", Help: "Reconnections to NATS.",
		}),
		heartbeats: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sshchat_bus_heartbeats_total", Help: "Heartbeats of this node written to the cluster, by result.",
		}, []string{"result"}),
		gaps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sshchat_bus_gaps_total", Help: "Runs of events missing from the stream (expired or deleted) when this node read it.",
		}),
	}
	b.heartbeats.WithLabelValues("ok")
	b.heartbeats.WithLabelValues("failed")
	m.reg.MustRegister(b.publish, b.lag, b.reconnects, b.heartbeats, b.gaps)
	return b
}

// Published records one publish round trip.
func (b *Bus) Published(d time.Duration) { b.publish.Observe(d.Seconds()) }

// Lag records how far behind the stream this node reads.
func (b *Bus) Lag(n uint64) { b.lag.Set(float64(n)) }

// Reconnected counts a reconnection to NATS.
func (b *Bus) Reconnected() { b.reconnects.Inc() }

// Heartbeat counts a heartbeat written, or one that failed.
func (b *Bus) Heartbeat(ok bool) {
	if ok {
		b.heartbeats.WithLabelValues("ok").Inc()
	} else {
		b.heartbeats.WithLabelValues("failed").Inc()
	}
}

// Gap counts a run of missing events.
func (b *Bus) Gap(_, _ uint64) { b.gaps.Inc() }
