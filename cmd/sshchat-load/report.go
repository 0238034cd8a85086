package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// report is every figure of a run. Durations are in milliseconds or
// seconds, as the field names say.
type report struct {
	Config     configReport     `json:"config"`
	RunID      int              `json:"run_id"`
	Sessions   sessionsReport   `json:"sessions"`
	Messages   messagesReport   `json:"messages"`
	Deliveries deliveriesReport `json:"deliveries"`
	Latency    latencyReport    `json:"latency_ms"`
	Dropped    droppedReport    `json:"dropped"`
	Storm      *stormReport     `json:"storm,omitempty"`
	Departure  *departureReport `json:"departure,omitempty"`
	Presence   *presenceReport  `json:"presence,omitempty"`
	Flood      *floodReport     `json:"flood,omitempty"`
	Failures   failuresReport   `json:"failures"`
	Server     *serverReport    `json:"server,omitempty"`
	Shutdown   shutdownReport   `json:"shutdown"`
	Verify     verifyReport     `json:"verify"`
	Tool       toolReport       `json:"tool"`
}

type configReport struct {
	Addr      string  `json:"addr"`
	N         int     `json:"n"`
	Senders   int     `json:"senders"`
	Rate      float64 `json:"rate"`
	DurationS float64 `json:"duration_s"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	Idle      bool    `json:"idle"`
	Burst     int     `json:"burst,omitempty"`
	Depart    []int   `json:"depart,omitempty"`
	Presence  int     `json:"presence,omitempty"`
	Parallel  int     `json:"connect_parallel"`
	WarmupS   float64 `json:"warmup_s"`
	SettleS   float64 `json:"settle_s"`
}

type sessionsReport struct {
	Requested    int      `json:"requested"`
	Connected    int      `json:"connected"`
	Failed       int      `json:"failed"`
	Errors       []string `json:"errors,omitempty"`
	ConnectP50MS float64  `json:"connect_p50_ms"`
	ConnectP90MS float64  `json:"connect_p90_ms"`
	ConnectP99MS float64  `json:"connect_p99_ms"`
	ConnectMaxMS float64  `json:"connect_max_ms"`
	ConnectAllS  float64  `json:"connect_all_s"` // wall time to open them all
}

type messagesReport struct {
	Planned    int     `json:"planned"`
	Sent       int64   `json:"sent"`
	SendErrors int64   `json:"send_errors"`
	MaxLagMS   float64 `json:"max_send_lag_ms"` // latest a message went out after its time
	Throttled  int     `json:"sessions_told_to_slow_down"`
	SendS      float64 `json:"send_s"`
	SettleS    float64 `json:"settle_s"`
}

type deliveriesReport struct {
	Expected int64          `json:"expected"`
	Seen     int64          `json:"seen"`
	Lost     int64          `json:"lost"`
	Ratio    float64        `json:"ratio"`
	History  int64          `json:"history"` // sent before the receiving session was there
	Foreign  int64          `json:"foreign"` // tokens not of this run
	Misses   *missReport    `json:"misses,omitempty"`
	Screens  *screensReport `json:"screens,omitempty"`
}

type latencyReport struct {
	Samples uint64  `json:"samples"`
	P50     float64 `json:"p50"`
	P90     float64 `json:"p90"`
	P99     float64 `json:"p99"`
	Max     float64 `json:"max"`
	Mean    float64 `json:"mean"`
}

type droppedReport struct {
	Sessions     int            `json:"sessions"`
	Evicted      int            `json:"evicted"` // the screen said the session fell too far behind
	StreamEnded  int64          `json:"stream_ended"`
	ScreenSaid   int64          `json:"screen_said"`
	Words        map[string]int `json:"words,omitempty"`
	StderrSample string         `json:"stderr_sample,omitempty"`
}

// serverReport is the server process's use of CPU and memory, from /proc.
type serverReport struct {
	PID             int     `json:"pid"`
	RSSBeforeKiB    int64   `json:"rss_before_kib"`    // before the first connection
	RSSConnectedKiB int64   `json:"rss_connected_kib"` // all sessions up, before sending
	RSSAfterKiB     int64   `json:"rss_after_kib"`     // end of the run, sessions still up
	PerSessionKiB   float64 `json:"rss_per_session_kib"`
	CPUConnectS     float64 `json:"cpu_connect_s"` // connecting and warm-up
	CPURunS         float64 `json:"cpu_run_s"`     // sending and settling, or the idle hold
	RunWallS        float64 `json:"run_wall_s"`
	CPURunCores     float64 `json:"cpu_run_cores"` // cpu_run_s / run_wall_s
	Error           string  `json:"error,omitempty"`
}

type toolReport struct {
	CPUS      float64 `json:"cpu_s"`
	CPURunS   float64 `json:"cpu_run_s"`     // sending and settling, or the idle hold
	RunCores  float64 `json:"cpu_run_cores"` // cpu_run_s over the run's wall time
	MaxRSSKiB int64   `json:"max_rss_kib"`
	BytesRead int64   `json:"bytes_read"`
	WallS     float64 `json:"wall_s"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func secs(d time.Duration) float64 {
	return float64(d.Milliseconds()) / 1000
}

// writeJSON prints rep as one JSON object.
func writeJSON(w io.Writer, rep *report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// writeText prints rep for a person.
func writeText(w io.Writer, rep *report) error {
	p := &printer{w: w}
	c := rep.Config
	p.f("sshchat-load run %d: %d sessions (%dx%d) on %s", rep.RunID, c.N, c.Width, c.Height, c.Addr)
	switch {
	case c.Idle:
		p.f("  mode:        idle for %.0fs", c.DurationS)
	case c.Burst > 0:
		p.f("  mode:        burst of %d messages from %d senders within %.1fs", c.Burst, c.Senders, c.DurationS)
	default:
		p.f("  mode:        %d senders, %.1f msg/s for %.0fs", c.Senders, c.Rate, c.DurationS)
	}
	s := rep.Sessions
	p.f("  connected:   %d of %d (%d failed) in %.1fs, %d at a time; connect p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms",
		s.Connected, s.Requested, s.Failed, s.ConnectAllS, c.Parallel, s.ConnectP50MS, s.ConnectP90MS, s.ConnectP99MS, s.ConnectMaxMS)
	for _, e := range s.Errors {
		p.f("    error: %s", e)
	}
	if !c.Idle {
		m, d, l := rep.Messages, rep.Deliveries, rep.Latency
		p.f("  messages:    %d of %d sent (%d errors), latest %.1f ms behind schedule; %d senders told to slow down",
			m.Sent, m.Planned, m.SendErrors, m.MaxLagMS, m.Throttled)
		p.f("  deliveries:  %d of %d seen (%.4f), %d lost", d.Seen, d.Expected, d.Ratio, d.Lost)
		if sc := d.Screens; sc != nil && sc.Screens > 0 {
			p.f("    per screen: %d screens, %d showed every message due (at most %d); seen least %d, median %d, mean %.1f",
				sc.Screens, sc.Complete, sc.Due, sc.SeenMin, sc.SeenP50, sc.SeenMean)
		}
		if ms := d.Misses; ms != nil && ms.Deliveries > 0 {
			p.f("    missed: %d messages seen by no session, %d by some; %d sessions missed any, at most %d",
				ms.Nowhere, ms.Partly, ms.Sessions, ms.WorstSession)
			for _, e := range ms.Examples {
				p.f("      %s", e)
			}
		}
		p.f("  latency:     p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (mean %.1f ms, %d samples)", l.P50, l.P90, l.P99, l.Max, l.Mean, l.Samples)
	}
	if st := rep.Storm; st != nil {
		p.f("  storm:       %d joined, %d at a time, in %.1fs; server CPU %.2f s, %.2f ms per join",
			st.Joined, st.Parallel, st.ConnectAllS, st.ServerCPUS, st.CPUPerJoin)
	}
	if dp := rep.Departure; dp != nil {
		p.f("  departure:   %d sessions disconnected at once (waves %v), %d stayed", dp.Departed, dp.Waves, dp.Remaining)
	}
	if pr := rep.Presence; pr != nil {
		p.f("  presence:    %d /nick commands (%d bytes) written at once in %.1f ms", pr.Commands, pr.Bytes, pr.WriteMS)
		if pr.Error != "" {
			p.f("               error: %s", pr.Error)
		}
	}
	if fl := rep.Flood; fl != nil {
		if fl.Sequence != "" {
			p.f("  flood:       %q written %d bytes in %.1f s", fl.Sequence, fl.Bytes, fl.Seconds)
		} else if fl.Sessions > 0 {
			p.f("  flood:       %d sessions opened and closed in %.1f s", fl.Sessions, fl.Seconds)
		} else if fl.Requests > 0 {
			p.f("  flood:       %d global requests answered in %.1f s", fl.Requests, fl.Seconds)
		} else {
			p.f("  flood:       %d window changes sent in %.1f s", fl.Resizes, fl.Seconds)
		}
		if fl.Error != "" {
			p.f("               error: %s", fl.Error)
		}
	}
	dr := rep.Dropped
	p.f("  dropped:     %d sessions, %d evicted (stream ended %d, screen said so %d)", dr.Sessions, dr.Evicted, dr.StreamEnded, dr.ScreenSaid)
	for w, n := range dr.Words {
		p.f("    %d screens said %q", n, w)
	}
	if dr.StderrSample != "" {
		p.f("    stderr:%s", dr.StderrSample)
	}
	if sv := rep.Server; sv != nil {
		p.f("  server:      pid %d; RSS %d KiB before, %d KiB connected, %d KiB after (%.1f KiB/session)",
			sv.PID, sv.RSSBeforeKiB, sv.RSSConnectedKiB, sv.RSSAfterKiB, sv.PerSessionKiB)
		p.f("               CPU %.2f s connecting; %.2f s over %.1f s run (%.3f cores)", sv.CPUConnectS, sv.CPURunS, sv.RunWallS, sv.CPURunCores)
		if sv.Error != "" {
			p.f("               error: %s", sv.Error)
		}
	}
	if sd := rep.Shutdown; sd.Measured {
		writeShutdown(p, sd)
	}
	if v := rep.Verify; v.Enabled {
		p.f("  verify:      %d screens, %d tokens checked against the emulator: %d not on screen, %d missed by the scanner",
			v.Screens, v.Tokens, v.MissingOnScreen, v.MissedByScanner)
		for _, e := range v.Examples {
			p.f("    %s", e)
		}
	}
	t := rep.Tool
	p.f("  tool:        %.2f s CPU over %.1f s (%.3f cores during the run), max RSS %d KiB, %d KiB read",
		t.CPUS, t.WallS, t.RunCores, t.MaxRSSKiB, t.BytesRead>>10)
	p.f("  result:      %v", rep.Failures)
	return p.err
}

func writeShutdown(p *printer, sd shutdownReport) {
	p.f("  shutdown:    %d sessions, %d saw \"shutting down\", %d still open", sd.Sessions, sd.SawShutdown, sd.StillOpen)
	if sd.Signalled {
		p.f("               SIGTERM → first \"shutting down\" %s, → all sessions closed %s, → process exited %s",
			msOrNever(sd.SignalToFirstMS), msOrNever(sd.SignalToClosedMS), msOrNever(sd.SignalToExitMS))
	}
	p.f("               first \"shutting down\" → all sessions closed %s", msOrNever(sd.FirstToClosedMS))
	if sd.Error != "" {
		p.f("               error: %s", sd.Error)
	}
}

// msOrNever prints a time in milliseconds, or "never" for -1.
func msOrNever(v float64) string {
	if v < 0 {
		return "never"
	}
	return fmt.Sprintf("%.1f ms", v)
}

// printer writes lines and keeps the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}
