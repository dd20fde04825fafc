package main

import (
	"bytes"
	"math"
	"testing"
)

const infoReply = "# CPU\r\nused_cpu_sys:1.250000\r\nused_cpu_user:0.750000\r\n\r\n# Commandstats\r\n" +
	"cmdstat_get:calls=300,usec=60,usec_per_call=0.20,rejected_calls=0,failed_calls=0\r\n" +
	"cmdstat_evalsha:calls=100,usec=330,usec_per_call=3.30,rejected_calls=0,failed_calls=0\r\n" +
	"cmdstat_client|setinfo:calls=2,usec=1,usec_per_call=0.50,rejected_calls=0,failed_calls=0\r\n" +
	"cmdstat_info:calls=7,usec=700,usec_per_call=100.00,rejected_calls=0,failed_calls=0\r\n"

func TestParseInfo(t *testing.T) {
	st, err := parseInfo(infoReply)
	if err != nil {
		t.Fatal(err)
	}
	if st.cpu != 2 {
		t.Errorf("cpu = %v, want 2", st.cpu)
	}
	want := map[string]cmdStat{"get": {300, 60}, "evalsha": {100, 330}, "client|setinfo": {2, 1}, "info": {7, 700}}
	if len(st.cmds) != len(want) {
		t.Errorf("cmds = %v, want %v", st.cmds, want)
	}
	for k, v := range want {
		if st.cmds[k] != v {
			t.Errorf("cmds[%q] = %+v, want %+v", k, st.cmds[k], v)
		}
	}
	for _, bad := range []string{
		"# CPU\r\nused_cpu_sys:1\r\n", // no used_cpu_user
		"used_cpu_sys:1\r\nused_cpu_user:1\r\ncmdstat_get:calls=x,usec=1\r\n",
		"used_cpu_sys:1\r\nused_cpu_user:1\r\ncmdstat_get:usec_per_call=1.00\r\n",
	} {
		if _, err := parseInfo(bad); err == nil {
			t.Errorf("parseInfo(%q): no error", bad)
		}
	}
}

func TestSinceAndAdd(t *testing.T) {
	s0, _ := parseInfo(infoReply)
	var s1 serverStats
	s1.add(s0)
	s1.add(serverStats{cpu: 0.5, cmds: map[string]cmdStat{"get": {1000, 200}, "info": {1, 100}, "set": {10, 5}}})
	d := s1.since(s0)
	if math.Abs(d.cpu-0.5) > 1e-9 {
		t.Errorf("cpu = %v, want 0.5", d.cpu)
	}
	want := map[string]cmdStat{"get": {1000, 200}, "set": {10, 5}}
	if len(d.cmds) != len(want) || d.cmds["get"] != want["get"] || d.cmds["set"] != want["set"] {
		t.Errorf("cmds = %v, want %v (no info, no command without calls)", d.cmds, want)
	}
}

func TestCommandFigure(t *testing.T) {
	runs := []measurement{
		{ops: 1000, cmds: map[string]cmdStat{"get": {1000, 200}, "evalsha": {1000, 3000}, "cluster|slots": {1, 50}}},
		{ops: 1000, cmds: map[string]cmdStat{"get": {1000, 200}, "evalsha": {1000, 3600}}},
	}
	f, ok := commandFigure(runs)
	if !ok {
		t.Fatal("no figure")
	}
	if got, want := f.String(), "evalsha 1.00 × 3.30, get 1.00 × 0.20"; got != want {
		t.Errorf("figure = %q, want %q (cluster|slots under 0.01 calls per request left out)", got, want)
	}
	if _, ok := commandFigure(nil); ok {
		t.Error("a cell without runs has a figure")
	}
	if _, ok := commandFigure([]measurement{{ops: 10}}); ok {
		t.Error("a run without command statistics has a figure")
	}
}

func TestWriteCommandTable(t *testing.T) {
	r := newResults()
	for _, wl := range workloadNames {
		r.add(cellKey{"node", 16, wl, "sessionkit"}, measurement{ops: 100, seconds: 1, cmds: map[string]cmdStat{"get": {100, 25}}})
		r.na[cellKey{"node", 16, wl, "scs"}] = "not here"
	}
	var buf bytes.Buffer
	writeCommandTable(&buf, tableSpec{topo: "node", clients: []int{16}, contenders: []string{"sessionkit", "scs"}}, r)
	holdsAll(t, buf.String(),
		"node, Redis command time (INFO commandstats)",
		"| clients | workload | sessionkit | scs |\n",
		"| ---: | --- | --- | --- |\n",
		"| 16 | write | get 1.00 × 0.25 | n/a |\n",
		"| 16 | read | get 1.00 × 0.25 | n/a |\n",
	)
}
