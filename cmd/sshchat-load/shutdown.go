package main

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// shutdownReport is how the server closed the sessions when it stopped.
// Times are in milliseconds; -1 when it did not happen within the wait.
type shutdownReport struct {
	Measured         bool    `json:"measured"`
	Signalled        bool    `json:"sigterm_sent"`
	Sessions         int     `json:"sessions_at_start"`
	SawShutdown      int     `json:"sessions_saw_shutting_down"`
	StillOpen        int     `json:"sessions_still_open"`
	SignalToFirstMS  float64 `json:"sigterm_to_first_shutting_down_ms"`
	SignalToClosedMS float64 `json:"sigterm_to_all_closed_ms"`
	SignalToExitMS   float64 `json:"sigterm_to_exit_ms"`
	FirstToClosedMS  float64 `json:"first_shutting_down_to_all_closed_ms"`
	Error            string  `json:"error,omitempty"`
}

// pollEvery is how often the shutdown measurement looks at the sessions
// and the server process.
const pollEvery = 2 * time.Millisecond

// measureShutdown has the server stopped (with -sigterm) or waits for it
// to be stopped from outside, and times how it closes the sessions.
func (r *run) measureShutdown(ctx context.Context, sessions []*session) shutdownReport {
	rep := shutdownReport{Measured: true, Sessions: int(r.open.Load())}
	r.phase.Store(phaseShutdown)
	start := r.clock()
	if r.cfg.SIGTERM {
		if err := syscall.Kill(r.cfg.PID, syscall.SIGTERM); err != nil {
			rep.Error = fmt.Sprintf("sigterm pid %d: %v", r.cfg.PID, err)
			return rep
		}
		rep.Signalled = true
	} else {
		r.notef("ready for SIGTERM: %d sessions open; waiting up to %v", rep.Sessions, r.cfg.ShutdownWait)
	}
	exitAt := r.waitClosed(ctx)

	rep.SignalToFirstMS, rep.SignalToClosedMS, rep.SignalToExitMS, rep.FirstToClosedMS = -1, -1, -1, -1
	var lastEnd int64
	for _, s := range sessions {
		if s.shutdownAt.Load() != 0 {
			rep.SawShutdown++
		}
		end := s.endAt.Load()
		if end == 0 {
			rep.StillOpen++
		}
		lastEnd = max(lastEnd, end)
	}
	first := r.firstDown.Load()
	if rep.Signalled && first != 0 {
		rep.SignalToFirstMS = ms(at(first - start))
	}
	if rep.StillOpen == 0 {
		if rep.Signalled {
			rep.SignalToClosedMS = ms(at(lastEnd - start))
		}
		if first != 0 {
			rep.FirstToClosedMS = ms(at(lastEnd - first))
		}
	}
	if exitAt != 0 {
		rep.SignalToExitMS = ms(at(exitAt - start))
	}
	return rep
}

// waitClosed waits up to -shutdown-wait until every session has ended
// and, after -sigterm, the server process has exited. It returns the run
// clock of the exit, or 0.
func (r *run) waitClosed(ctx context.Context) (exitAt int64) {
	deadline := time.Now().Add(r.cfg.ShutdownWait)
	for time.Now().Before(deadline) {
		if exitAt == 0 && r.cfg.SIGTERM && exited(r.cfg.PID) {
			exitAt = r.clock()
		}
		if r.open.Load() == 0 && (!r.cfg.SIGTERM || exitAt != 0) {
			return exitAt
		}
		if !sleepCtx(ctx, pollEvery) {
			break
		}
	}
	return exitAt
}
