package wire

import (
	"runtime"
	"syscall"
	"unsafe"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"slices"
)

func (f Fields) searchHand(key string) (int, bool) {
	lo, hi := 0, len(f)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if f[m].Key < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(f) && f[lo].Key == key
}

func (f Fields) getHand(key string) (any, bool) {
	if i, ok := f.searchHand(key); ok {
		return f[i].Value, true
	}
	return nil, false
}

func benchGet(b *testing.B, n int, get func(Fields, string) (any, bool)) {
	var f Fields
	keys := []string{"absent"}
	for i := range n {
		k := "key" + strconv.Itoa(i)
		f.Set(k, i)
		keys = append(keys, k)
	}
	for range b.N {
		for _, k := range keys {
			sinkAny, sinkOK = get(f, k)
		}
	}
}

func BenchmarkZGet(b *testing.B) {
	for _, n := range []int{3, 20} {
		b.Run("hand/"+strconv.Itoa(n), func(b *testing.B) { benchGet(b, n, Fields.getHand) })
		b.Run("new/"+strconv.Itoa(n), func(b *testing.B) { benchGet(b, n, Fields.Get) })
	}
}

func (d *decoder) scanNumberOld() (lit string, integer bool, err error) {
	start := d.pos
	p := d.pos
	data := d.data
	if p < len(data) && data[p] == '-' {
		p++
	}
	switch {
	case p < len(data) && data[p] == '0':
		p++
	case p < len(data) && '1' <= data[p] && data[p] <= '9':
		for p < len(data) && '0' <= data[p] && data[p] <= '9' {
			p++
		}
	default:
		d.pos = p
		return "", false, d.syntaxError("invalid number")
	}
	integer = true
	if p < len(data) && data[p] == '.' {
		integer = false
		p++
		if p >= len(data) || data[p] < '0' || data[p] > '9' {
			d.pos = p
			return "", false, d.syntaxError("invalid number")
		}
		for p < len(data) && '0' <= data[p] && data[p] <= '9' {
			p++
		}
	}
	if p < len(data) && (data[p] == 'e' || data[p] == 'E') {
		integer = false
		p++
		if p < len(data) && (data[p] == '+' || data[p] == '-') {
			p++
		}
		if p >= len(data) || data[p] < '0' || data[p] > '9' {
			d.pos = p
			return "", false, d.syntaxError("invalid number")
		}
		for p < len(data) && '0' <= data[p] && data[p] <= '9' {
			p++
		}
	}
	d.pos = p
	return data[start:p], integer, nil
}


func threadCPU() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0) // CLOCK_THREAD_CPUTIME_ID
	return ts.Nano()
}

// abCPU times f(old) and f(new) alternately, n iterations each, rounds times, and reports min and median thread CPU ns/op.
func abCPU(t *testing.T, name string, rounds, n int, a, b func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var ta, tb []float64
	for r := 0; r < rounds; r++ {
		t0 := threadCPU()
		for i := 0; i < n; i++ {
			a()
		}
		t1 := threadCPU()
		for i := 0; i < n; i++ {
			b()
		}
		t2 := threadCPU()
		ta = append(ta, float64(t1-t0)/float64(n))
		tb = append(tb, float64(t2-t1)/float64(n))
	}
	slices.Sort(ta)
	slices.Sort(tb)
	fmt.Printf("%-28s old min %7.2f med %7.2f | new min %7.2f med %7.2f | med %+.1f%%\n", name, ta[0], ta[len(ta)/2], tb[0], tb[len(tb)/2], 100*(tb[len(tb)/2]/ta[len(ta)/2]-1))
}

var sinkStr string

func TestZScanNumber(t *testing.T) {
	for _, lit := range []string{"1", "1700000000000", "-17", "3.14159", "6.02e23", "-0.25", "1e-9", "1234567890123456789"} {
		data := lit + ","
		abCPU(t, "scan "+lit, 41, 200000, func() {
			d := decoder{data: data}
			sinkStr, sinkOK, _ = d.scanNumberOld()
		}, func() {
			d := decoder{data: data}
			sinkStr, sinkOK, _ = d.scanNumber()
		})
	}
}

func TestZEncode(t *testing.T) {
	buf := make([]byte, 0, 1024)
	for _, tc := range []struct {
		name string
		v    any
	}{
		{"int", 7}, {"int64", int64(-1234567890123)}, {"uint32", uint32(42)},
		{"float whole", 42.0}, {"float pi", 3.14159}, {"float e", 6.02e23}, {"float 1e-9", 1e-9}, {"float32", float32(0.1)},
		{"str ascii", "alice@example.com"}, {"str esc", "Line one\nLine \"two\"\t<b>&</b>"}, {"str utf8", "été Zürich 日本語 \U0001F600"},
		{"str 2028", "a\u2028b"}, {"str long", strings.Repeat("abcdefghij", 20)},
		{"[]string", []string{"admin", "editor"}}, {"[]any", []any{1.0, "two", true, nil}},
		{"map3", map[string]any{"theme": "dark", "size": 12.0, "b": true}},
		{"struct", struct{ A int }{1}},
	} {
		v := tc.v
		abCPU(t, "enc "+tc.name, 41, 20000, func() {
			buf, _ = appendValueOld(buf[:0], v, 0)
		}, func() {
			buf, _ = appendValue(buf[:0], v, 0)
		})
	}
}

func TestZDecodeString(t *testing.T) {
	for _, s := range []string{`"alice@example.com"`, `"Line one\nLine \"two\"\t\u00e9t\u00e9 \ud83d\ude00 <b>&</b>"`, `"Zürich 日本語"`, `"Saved \u2713"`} {
		abCPU(t, "dec "+s[:8], 41, 20000, func() {
			d := decoder{data: s}
			sinkStr, _ = d.stringOld()
		}, func() {
			d := decoder{data: s}
			sinkStr, _ = d.string()
		})
	}
}
