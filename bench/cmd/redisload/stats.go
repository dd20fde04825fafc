package main

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// serverStats is what one reading of the masters' INFO gives, summed over
// the masters: Redis's CPU time, and per command the calls and the time
// spent executing them (INFO commandstats).
type serverStats struct {
	cpu  float64            // used_cpu_sys + used_cpu_user, seconds
	cmds map[string]cmdStat // by command name, as commandstats names it ("evalsha", "client|setinfo")
}

// cmdStat is one command's calls and execution time in microseconds.
type cmdStat struct {
	calls int64
	usec  int64
}

// add sums o into s.
func (s *serverStats) add(o serverStats) {
	s.cpu += o.cpu
	if s.cmds == nil {
		s.cmds = map[string]cmdStat{}
	}
	for k, v := range o.cmds {
		c := s.cmds[k]
		c.calls += v.calls
		c.usec += v.usec
		s.cmds[k] = c
	}
}

// since is s minus an earlier reading s0: the CPU and the commands of the
// window between them. The meter's own INFO calls are left out.
func (s serverStats) since(s0 serverStats) serverStats {
	out := serverStats{cpu: s.cpu - s0.cpu, cmds: map[string]cmdStat{}}
	for k, v := range s.cmds {
		if k == "info" {
			continue
		}
		d := cmdStat{calls: v.calls - s0.cmds[k].calls, usec: v.usec - s0.cmds[k].usec}
		if d.calls > 0 {
			out.cmds[k] = d
		}
	}
	return out
}

// parseInfo reads an INFO reply of the sections cpu and commandstats.
func parseInfo(info string) (serverStats, error) {
	cpu, err := parseCPU(info)
	if err != nil {
		return serverStats{}, err
	}
	st := serverStats{cpu: cpu, cmds: map[string]cmdStat{}}
	for _, line := range strings.Split(info, "\n") {
		name, fields, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		c, err := parseCmdStat(fields)
		if err != nil {
			return serverStats{}, fmt.Errorf("%s: %w", name, err)
		}
		st.cmds[strings.TrimPrefix(name, "cmdstat_")] = c
	}
	return st, nil
}

// parseCmdStat reads the calls and usec of one commandstats line's fields
// ("calls=3,usec=12,usec_per_call=4.00,rejected_calls=0,failed_calls=0").
func parseCmdStat(fields string) (cmdStat, error) {
	var c cmdStat
	found := 0
	for _, f := range strings.Split(fields, ",") {
		k, v, _ := strings.Cut(f, "=")
		var dst *int64
		switch k {
		case "calls":
			dst = &c.calls
		case "usec":
			dst = &c.usec
		default:
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return cmdStat{}, fmt.Errorf("%s: %w", k, err)
		}
		*dst = n
		found++
	}
	if found != 2 {
		return cmdStat{}, errors.New("no calls and usec")
	}
	return c, nil
}

// cmdFigure is what the command-time table shows of a cell: per command a
// request sends, its calls per request and microseconds per call, over
// every run of the cell, the largest share first.
type cmdFigure []cmdShare

// cmdShare is one command's part of a cmdFigure.
type cmdShare struct {
	name        string
	callsPerReq float64
	usPerCall   float64
}

// minCallsPerReq leaves out of a cmdFigure the commands a request rarely
// sends: a client's connection set-up, a Cluster client's slot map
// reloads.
const minCallsPerReq = 0.01

// commandFigure sums the commands of runs and divides by their requests.
func commandFigure(runs []measurement) (cmdFigure, bool) {
	var ops int64
	var sum serverStats
	for _, m := range runs {
		ops += m.ops
		sum.add(serverStats{cmds: m.cmds})
	}
	if ops == 0 || len(sum.cmds) == 0 {
		return nil, false
	}
	var f cmdFigure
	for name, c := range sum.cmds {
		if cpr := float64(c.calls) / float64(ops); cpr >= minCallsPerReq {
			f = append(f, cmdShare{name: name, callsPerReq: cpr, usPerCall: float64(c.usec) / float64(c.calls)})
		}
	}
	sort.Slice(f, func(i, j int) bool {
		a, b := f[i], f[j]
		if ta, tb := a.callsPerReq*a.usPerCall, b.callsPerReq*b.usPerCall; ta != tb {
			return ta > tb
		}
		return a.name < b.name
	})
	return f, true
}

// String is the table cell, each command as calls per request × µs per
// call: "evalsha 1.00 × 3.28, set 1.00 × 0.45, get 2.00 × 0.16".
func (f cmdFigure) String() string {
	parts := make([]string, len(f))
	for i, c := range f {
		parts[i] = fmt.Sprintf("%s %.2f × %.2f", c.name, c.callsPerReq, c.usPerCall)
	}
	return strings.Join(parts, ", ")
}
