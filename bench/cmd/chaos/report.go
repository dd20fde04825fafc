package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// An event is a moment of a scenario's timeline: the fault, the end of the
// fault (a restart, a SIGCONT), the servers being ready again.
type event struct {
	name   string // eventFault, eventRecover, eventReady, or another
	at     time.Duration
	detail string
}

const (
	eventFault   = "fault"
	eventRecover = "recover"
	eventReady   = "ready"
)

// outcome is what a scenario's run produced, for analyze.
type outcome struct {
	users    [][]record    // each user's requests, in order
	faultAt  time.Duration // the during phase starts
	recoAt   time.Duration // the after phase starts
	end      time.Duration
	events   []event
	serverOf []string // each user's server when the fault came; nil: one server holds every session
	faulted  string   // the server the fault hit, in serverOf's terms
	stopped  []bool   // users that lost their session and, as asked, did not sign in again
	bound    time.Duration
}

func (o *outcome) event(name string) (event, bool) {
	for _, e := range o.events {
		if e.name == name {
			return e, true
		}
	}
	return event{}, false
}

// phaseStats are the figures of one phase: the requests that started in it.
type phaseStats struct {
	seconds        float64
	requests       int
	status5xx      int
	noResponse     int // refused, reset or timed out
	throttled      int // 429
	signIns        int
	signInsFailed  int
	sessionsLost   int // anonymous pages of users nobody signed out
	lostOnFaulted  int // of those, users whose session lived on the faulted server
	writesLost     int
	unacked        int
	overBound      int // requests that took longer than the bound
	latencies      []time.Duration
	p50, p99, maxL time.Duration
}

// summary is a scenario's table.
type summary struct {
	phases [3]phaseStats // before, during, after
	total  phaseStats
	// Errors: the first failed request's start and the last one's end,
	// since the run's clock started; ok is false when nothing failed.
	firstErr, lastErr time.Duration
	anyErr            bool
	// noService is the longest time in which no request of any user
	// succeeded; oneUser the longest outage of one user (from their
	// first failed request to the end of their next successful one, or to
	// the end of the run when none came).
	noService, oneUser time.Duration
	oneUserOpen        bool // the longest one is still going at the end
	failingAtEnd       int  // users whose last request failed
	usersOnFaulted     int
	stoppedUsers       int
	usersLost          int // distinct users who lost a session
	usersLostFaulted   int
}

// analyze computes a scenario's summary from its outcome.
func analyze(o *outcome) summary {
	var s summary
	bounds := [4]time.Duration{0, o.faultAt, o.recoAt, o.end}
	for i := range s.phases {
		s.phases[i].seconds = (bounds[i+1] - bounds[i]).Seconds()
	}
	s.total.seconds = o.end.Seconds()
	var successes []time.Duration
	for u, recs := range o.users {
		onFaulted := o.onFaulted(u)
		if onFaulted {
			s.usersOnFaulted++
		}
		if u < len(o.stopped) && o.stopped[u] {
			s.stoppedUsers++
		}
		lost := false
		for _, r := range recs {
			ph := phaseOf(r, bounds)
			s.phases[ph].add(r, onFaulted, o.bound)
			s.total.add(r, onFaulted, o.bound)
			if r.sessionLost {
				lost = true
			}
			if r.failed() {
				s.noteErr(r)
			} else if r.status != 429 {
				successes = append(successes, r.end)
			}
		}
		if lost {
			s.usersLost++
			if onFaulted {
				s.usersLostFaulted++
			}
		}
		d, open, failingNow := userOutage(recs, o.end)
		if d > s.oneUser {
			s.oneUser, s.oneUserOpen = d, open
		}
		if failingNow {
			s.failingAtEnd++
		}
	}
	s.noService = longestGap(successes, 0, o.end)
	for i := range s.phases {
		s.phases[i].finish()
	}
	s.total.finish()
	return s
}

// onFaulted reports whether user u's session lived on the faulted server;
// with one server (serverOf nil), every session did.
func (o *outcome) onFaulted(u int) bool {
	if o.serverOf == nil {
		return true
	}
	return u < len(o.serverOf) && o.serverOf[u] == o.faulted
}

// phaseOf returns the phase a request counts in: the one it started in,
// except that a request in flight when the fault came counts in the during
// phase, which it saw.
func phaseOf(r record, bounds [4]time.Duration) int {
	switch {
	case r.start < bounds[1] && r.end <= bounds[1]:
		return 0
	case r.start < bounds[2]:
		return 1
	}
	return 2
}

func (s *summary) noteErr(r record) {
	if !s.anyErr || r.start < s.firstErr {
		s.firstErr = r.start
	}
	if !s.anyErr || r.end > s.lastErr {
		s.lastErr = r.end
	}
	s.anyErr = true
}

func (p *phaseStats) add(r record, onFaulted bool, bound time.Duration) {
	p.requests++
	switch {
	case r.status == 0:
		p.noResponse++
	case r.status >= 500:
		p.status5xx++
	case r.status == 429:
		p.throttled++
	}
	if r.signIn {
		p.signIns++
		if r.failed() {
			p.signInsFailed++
		}
	}
	if r.sessionLost {
		p.sessionsLost++
		if onFaulted {
			p.lostOnFaulted++
		}
	}
	p.writesLost += r.lost
	p.unacked += r.unacked
	lat := r.end - r.start
	if bound > 0 && lat > bound {
		p.overBound++
	}
	p.latencies = append(p.latencies, lat)
}

func (p *phaseStats) finish() {
	slices.Sort(p.latencies)
	p.p50 = percentile(p.latencies, 50)
	p.p99 = percentile(p.latencies, 99)
	if n := len(p.latencies); n > 0 {
		p.maxL = p.latencies[n-1]
	}
	p.latencies = nil
}

// percentile returns the nearest-rank percentile q of sorted.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// userOutage returns one user's longest run of failed requests, from the
// start of its first to the end of the next successful request (or end,
// when none came: open), and whether the user's last request failed.
func userOutage(recs []record, end time.Duration) (longest time.Duration, open, failingNow bool) {
	inRun := false
	var runStart time.Duration
	for _, r := range recs {
		switch {
		case r.failed():
			if !inRun {
				inRun, runStart = true, r.start
			}
		case r.status == 429:
			// Neither a failure nor a success.
		case inRun:
			inRun = false
			if d := r.end - runStart; d > longest {
				longest, open = d, false
			}
		}
	}
	if inRun {
		if d := end - runStart; d > longest {
			longest, open = d, true
		}
	}
	return longest, open, inRun
}

// longestGap returns the longest interval between from, the times in ts
// and to in which no time of ts falls.
func longestGap(ts []time.Duration, from, to time.Duration) time.Duration {
	slices.Sort(ts)
	var longest time.Duration
	prev := from
	for _, t := range ts {
		if t-prev > longest {
			longest = t - prev
		}
		prev = max(prev, t)
	}
	if to-prev > longest {
		longest = to - prev
	}
	return longest
}

// table is the Markdown table of a scenario: one column per phase and one
// for the whole run.
func (s *summary) table(o *outcome, multiServer, appRestarted bool) string {
	var b strings.Builder
	b.WriteString("| | before | during | after | whole run |\n|---|---:|---:|---:|---:|\n")
	row := func(name string, f func(p *phaseStats) string, whole string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", name, f(&s.phases[0]), f(&s.phases[1]), f(&s.phases[2]), whole)
	}
	perPhase := func(name string, f func(p *phaseStats) string) { row(name, f, f(&s.total)) }
	perPhase("phase length", func(p *phaseStats) string { return fmt.Sprintf("%.1f s", p.seconds) })
	perPhase("requests", func(p *phaseStats) string { return fmt.Sprint(p.requests) })
	perPhase("requests/s", func(p *phaseStats) string { return rate(p.requests, p.seconds) })
	perPhase("5xx", func(p *phaseStats) string { return fmt.Sprint(p.status5xx) })
	perPhase("no response (refused, reset, timeout)", func(p *phaseStats) string { return fmt.Sprint(p.noResponse) })
	perPhase("sign-ins (failed; 429)", func(p *phaseStats) string {
		return fmt.Sprintf("%d (%d; %d)", p.signIns, p.signInsFailed, p.throttled)
	})
	perPhase("p50 latency", func(p *phaseStats) string { return ms(p.p50) })
	perPhase("p99 latency", func(p *phaseStats) string { return ms(p.p99) })
	perPhase("max latency", func(p *phaseStats) string { return ms(p.maxL) })
	if o.bound > 0 {
		perPhase(fmt.Sprintf("requests over %v", o.bound), func(p *phaseStats) string { return fmt.Sprint(p.overBound) })
	}
	lostName := "sessions lost"
	if multiServer {
		lostName = "sessions lost (of users on the faulted server)"
	}
	row(lostName, func(p *phaseStats) string { return s.lostCell(p, multiServer) }, s.usersLostCell(multiServer))
	perPhase("writes lost (acknowledged, then missing)", func(p *phaseStats) string { return fmt.Sprint(p.writesLost) })
	perPhase("writes landed unacknowledged", func(p *phaseStats) string { return fmt.Sprint(p.unacked) })
	row("longest outage, all users: errors first → last", blank, s.errorWindow(o))
	row("longest outage, all users: no request served", blank, secs(s.noService))
	row("longest outage, one user", blank, s.oneUserCell())
	row("every session recovered, app not restarted", blank, s.recoveredCell(appRestarted))
	return b.String()
}

func blank(*phaseStats) string { return "" }

func (s *summary) lostCell(p *phaseStats, multiServer bool) string {
	if !multiServer {
		return fmt.Sprint(p.sessionsLost)
	}
	return fmt.Sprintf("%d (%d)", p.sessionsLost, p.lostOnFaulted)
}

// usersLostCell counts users rather than anonymous pages: a user who
// signed in again and lost that session too counts once.
func (s *summary) usersLostCell(multiServer bool) string {
	if !multiServer {
		return plural(s.usersLost, "user")
	}
	return fmt.Sprintf("%s (%d of the %d on the faulted server; %d elsewhere)",
		plural(s.usersLost, "user"), s.usersLostFaulted, s.usersOnFaulted, s.usersLost-s.usersLostFaulted)
}

func (s *summary) errorWindow(o *outcome) string {
	if !s.anyErr {
		return "no errors"
	}
	out := secs(s.lastErr - s.firstErr)
	if f, ok := o.event(eventFault); ok {
		out += fmt.Sprintf(": %s to %s after the fault", signedSecs(s.firstErr-f.at), signedSecs(s.lastErr-f.at))
	}
	if r, ok := o.event(eventReady); ok {
		out += fmt.Sprintf(", the last %s after %s", signedSecs(s.lastErr-r.at), r.detail)
	}
	return out
}

func (s *summary) oneUserCell() string {
	if s.oneUser == 0 {
		return "none"
	}
	if s.oneUserOpen {
		return secs(s.oneUser) + ", still failing at the end"
	}
	return secs(s.oneUser)
}

func (s *summary) recoveredCell(appRestarted bool) string {
	var parts []string
	switch {
	case s.failingAtEnd > 0:
		parts = append(parts, fmt.Sprintf("no: %s still failing at the end", plural(s.failingAtEnd, "user")))
	case appRestarted:
		parts = append(parts, "yes, after the app's restart (the fault)")
	default:
		parts = append(parts, "yes")
	}
	if s.stoppedUsers > 0 {
		parts = append(parts, fmt.Sprintf("%s who lost their session did not sign in again, as asked", plural(s.stoppedUsers, "user")))
	}
	return strings.Join(parts, "; ")
}

func rate(n int, seconds float64) string {
	if seconds <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f", float64(n)/seconds)
}

func ms(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f ms", float64(d)/1e6)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func signedSecs(d time.Duration) string {
	if d < 0 {
		return fmt.Sprintf("−%.2f s", (-d).Seconds())
	}
	return fmt.Sprintf("+%.2f s", d.Seconds())
}

// A check is one "Done when" line of issue 22, evaluated on a run.
type check struct {
	what string
	ok   bool
	got  string
	info bool // only counts: not a line of "Done when"
}

// doneWhen is a check that is a line of "Done when".
func doneWhen(what string, ok bool, got string) check { return check{what: what, ok: ok, got: got} }

func printChecks(w io.Writer, checks []check) {
	for _, c := range checks {
		mark := "yes"
		switch {
		case c.info:
			mark = "counted"
		case !c.ok:
			mark = "NO"
		}
		fmt.Fprintf(w, "- %s: **%s** (%s)\n", c.what, mark, c.got)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// summaryHeader heads the table of every scenario that ends the output.
const summaryHeader = "| scenario | requests | 5xx | no response | sessions lost | writes lost | errors first → last | longest, one user | p99 before / during / after | recovered | checks met |\n" +
	"|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"

// summaryRow is the scenario's row of the table of every scenario.
func (s *summary) summaryRow(name string, multiServer bool, checks []check) string {
	lost := fmt.Sprint(s.usersLost)
	if multiServer {
		lost = fmt.Sprintf("%d (%d elsewhere)", s.usersLost, s.usersLost-s.usersLostFaulted)
	}
	window := "none"
	if s.anyErr {
		window = secs(s.lastErr - s.firstErr)
	}
	recovered := "yes"
	if s.failingAtEnd > 0 {
		recovered = fmt.Sprintf("no (%d failing)", s.failingAtEnd)
	}
	met, total := 0, 0
	var missed []string
	for _, c := range checks {
		switch {
		case c.info:
			continue
		case c.ok:
			met++
		default:
			missed = append(missed, c.what)
		}
		total++
	}
	metCell := fmt.Sprintf("%d of %d", met, total)
	if len(missed) > 0 {
		metCell += ": not " + strings.Join(missed, "; not ")
	}
	return fmt.Sprintf("| %s | %d | %d | %d | %s | %d | %s | %s | %s / %s / %s | %s | %s |",
		name, s.total.requests, s.total.status5xx, s.total.noResponse, lost, s.total.writesLost, window, s.oneUserCell(),
		ms(s.phases[0].p99), ms(s.phases[1].p99), ms(s.phases[2].p99), recovered, metCell)
}
