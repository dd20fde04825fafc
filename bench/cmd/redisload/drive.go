package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// requestTimeout is each Go request's deadline, as the session middleware
// gives one, so that the cost of deadlines is part of what is measured.
const requestTimeout = 2 * time.Second

// measurement is the timed window of one run.
type measurement struct {
	ops     int64   // requests completed in the window
	seconds float64 // the window's length
	cpu     float64 // Redis's CPU seconds (sys + user) over the window, all masters
	// cmds is what Redis's commands took over the window, all masters
	// (INFO commandstats), by command.
	cmds map[string]cmdStat
}

// measured is the measurement of ops requests in seconds, between the
// server readings s0 and s1.
func measured(ops int64, seconds float64, s0, s1 serverStats) measurement {
	d := s1.since(s0)
	return measurement{ops: ops, seconds: seconds, cpu: d.cpu, cmds: d.cmds}
}

// reqPerSec is requests per second over the window.
func (m measurement) reqPerSec() float64 { return float64(m.ops) / m.seconds }

// cpuPer10k is Redis's CPU milliseconds per 10,000 requests.
func (m measurement) cpuPer10k() float64 { return m.cpu * 1e3 / float64(m.ops) * 1e4 }

// drive runs reqs, each in a loop of its own on a goroutine, one request
// after the other, through the warm-up and the timed window. The first
// request error stops the run and is returned.
func drive(ctx context.Context, c cell, reqs []request) (measurement, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var done atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := loop(ctx, req, &stop, &done); err != nil {
				cancel(err)
			}
		}()
	}
	m, err := timeWindow(ctx, c, done.Load, func() { stop.Store(true) })
	stop.Store(true)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil {
		return measurement{}, cause
	}
	return m, err
}

// loop sends req until stop, each on its own deadline, counting the
// completed ones in done.
func loop(ctx context.Context, req request, stop *atomic.Bool, done *atomic.Int64) error {
	for !stop.Load() {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		err := req(rctx)
		cancel()
		if err != nil {
			return err
		}
		done.Add(1)
	}
	return nil
}

// timeWindow waits out the warm-up, then times the window: the count of
// completed requests and Redis's CPU at its start and its end. stop ends
// the load right after the window, before the second CPU reading, as
// redis-load.mjs does.
func timeWindow(ctx context.Context, c cell, count func() int64, stop func()) (measurement, error) {
	if err := sleep(ctx, c.cfg.warmup); err != nil {
		return measurement{}, err
	}
	n0, t0 := count(), time.Now()
	st0, err := c.meter.read(ctx)
	if err != nil {
		return measurement{}, err
	}
	if err := sleep(ctx, c.cfg.duration); err != nil {
		return measurement{}, err
	}
	n1, t1 := count(), time.Now()
	stop()
	st1, err := c.meter.read(ctx)
	if err != nil {
		return measurement{}, err
	}
	return measured(n1-n0, t1.Sub(t0).Seconds(), st0, st1), nil
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
