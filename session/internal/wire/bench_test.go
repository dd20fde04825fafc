package wire

import (
	"strconv"
	"strings"
	"testing"
)

// benchRecord is the session of the storage benchmarks in package session:
// a user name, a counter and a list of roles, with metadata.
const benchRecord = `[{"count":1,"roles":["admin","editor"],"user":"alice@example.com"},{},{"c":1700000000000,"s":1700000000000}]`

// largeRecord is a record past shareLimit: 200 string values.
var largeRecord = func() string {
	var b strings.Builder
	b.WriteString(`[{`)
	for i := range 200 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"key` + strconv.Itoa(i) + `":"value number ` + strconv.Itoa(i) + `"`)
	}
	b.WriteString(`},{}]`)
	return b.String()
}()

// BenchmarkParseRecord compares decoded strings that share the record's
// memory with strings copied one by one (the figures behind shareLimit).
func BenchmarkParseRecord(b *testing.B) {
	for _, rec := range []struct{ name, data string }{{"session", benchRecord}, {"large", largeRecord}} {
		for _, copyStrings := range []bool{false, true} {
			name := rec.name + "/shared"
			if copyStrings {
				name = rec.name + "/copied"
			}
			b.Run(name, func(b *testing.B) {
				data := []byte(rec.data)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					d := newDecoder(string(data), MaxDepth+1)
					d.copyStrings = copyStrings
					if _, _, _, err := parseRecord(d); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkAppendRecord(b *testing.B) {
	values, flash, m, err := ParseRecord([]byte(benchRecord))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	buf := make([]byte, 0, 256)
	b.ResetTimer()
	for range b.N {
		if buf, err = AppendRecord(buf[:0], values, flash, m); err != nil {
			b.Fatal(err)
		}
	}
}
