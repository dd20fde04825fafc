package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sessionkit/sessionkit/bench/internal/machine"
)

// run starts the servers, runs every cell -rounds times (the rounds
// interleaved: each round runs every cell once, the contenders of a cell
// back to back, so that load from elsewhere on the machine falls on them
// alike), prints one table per topology to w and progress to progress,
// and stops the servers, whatever happens.
func run(ctx context.Context, cfg *config, args []string, w, progress io.Writer) (err error) {
	fmt.Fprintf(w, "# make bench-redis\n\n%s\n\n`%s`: %v timed after a %v warm-up per cell, %d round(s)%s; each client on its own session, one request after the other; Go requests on a %v deadline each. Redis CPU: used_cpu_sys + used_cpu_user of INFO cpu, summed over the masters, per 10,000 requests.\n",
		machine.Describe(), commandLine(args), cfg.duration, cfg.warmup, cfg.rounds, medianNote(cfg.rounds), requestTimeout)
	topos, err := startTopologies(cfg.topologies)
	if err != nil {
		return err
	}
	defer func() {
		if serr := stopTopologies(topos); serr != nil && err == nil {
			err = serr
		}
	}()
	meters := make([]*cpuMeter, len(topos))
	for i, t := range topos {
		meters[i] = newCPUMeter(t.masters)
		defer meters[i].close()
	}
	res := newResults()
	for round := 1; round <= cfg.rounds; round++ {
		for i, t := range topos {
			if err := runTopology(ctx, cfg, t, meters[i], res, round, progress); err != nil {
				return err
			}
		}
	}
	for _, t := range topos {
		spec := tableSpec{topo: t.name, title: t.title, clients: cfg.clients, contenders: cfg.contenders}
		writeTable(w, spec, res)
		writeCommandTable(w, spec, res)
	}
	return nil
}

// medianNote says how the figures of several rounds are combined.
func medianNote(rounds int) string {
	if rounds > 1 {
		return ", each figure the median of the rounds"
	}
	return ""
}

// runTopology runs one round of every cell of topology t.
func runTopology(ctx context.Context, cfg *config, t *topology, meter *cpuMeter, res *results, round int, progress io.Writer) error {
	for _, n := range cfg.clients {
		for _, write := range []bool{true, false} {
			c := cell{cfg: cfg, topo: t, meter: meter, clients: n, write: write}
			for _, k := range contenders() {
				if !contains(cfg.contenders, k.name) {
					continue
				}
				if err := runCell(ctx, c, k, res, round, progress); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// runCell runs contender k on cell c once and records the measurement, or
// records why k cannot run c.
func runCell(ctx context.Context, c cell, k contender, res *results, round int, progress io.Writer) error {
	key := cellKey{topo: c.topo.name, clients: c.clients, workload: c.workload(), contender: k.name}
	name := fmt.Sprintf("round %d/%d %s, %d clients, %s, %s", round, c.cfg.rounds, c.topo.name, c.clients, c.workload(), k.name)
	if why := k.na(c); why != "" {
		res.na[key] = why
		fmt.Fprintf(progress, "%s: n/a (%s)\n", name, why)
		return nil
	}
	m, err := k.run(ctx, c)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if m.ops < 1 || m.seconds <= 0 {
		return fmt.Errorf("%s: no request completed in the timed window", name)
	}
	res.add(key, m)
	fmt.Fprintf(progress, "%s: %.0f req/s, Redis CPU %.0f ms per 10k requests (%d requests in %.2f s)\n", name, m.reqPerSec(), m.cpuPer10k(), m.ops, m.seconds)
	return nil
}
