package main

import (
	"bufio"
	"bytes"
	"fmt"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
)

// goroutineCounts counts the goroutines by the function at the top of
// their stack, from the goroutine profile.
func goroutineCounts() map[string]int {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return nil
	}
	return parseGoroutineProfile(buf.String())
}

// parseGoroutineProfile reads a goroutine profile in its debug=1 text
// form: "N @ addresses" lines, each followed by its frames
// ("#\taddr\tfunc+off\tfile:line"), innermost first. The outermost frame,
// the function the goroutines were started with, names the group.
func parseGoroutineProfile(text string) map[string]int {
	counts := map[string]int{}
	n, fn := 0, ""
	commit := func() {
		if n > 0 && fn != "" {
			counts[fn] += n
		}
		n, fn = 0, ""
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if count, rest, ok := strings.Cut(line, " @ "); ok && rest != "" {
			commit()
			n, _ = strconv.Atoi(count)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "#" || f[2] == "runtime.goexit" || strings.HasPrefix(f[2], "runtime.goexit+") {
			continue
		}
		fn = f[2]
		if i := strings.LastIndex(fn, "+0x"); i > 0 {
			fn = fn[:i]
		}
	}
	commit()
	return counts
}

// goroutineGrowth lists the groups that grew from before to after, most
// first.
func goroutineGrowth(before, after map[string]int) string {
	type g struct {
		fn string
		d  int
	}
	var grew []g
	for fn, n := range after {
		if d := n - before[fn]; d > 0 {
			grew = append(grew, g{fn, d})
		}
	}
	sort.Slice(grew, func(i, j int) bool { return grew[i].d > grew[j].d || grew[i].d == grew[j].d && grew[i].fn < grew[j].fn })
	var parts []string
	for i, e := range grew {
		if i == 5 {
			break
		}
		parts = append(parts, fmt.Sprintf("+%d %s", e.d, e.fn))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
