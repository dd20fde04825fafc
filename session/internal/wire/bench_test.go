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

// mixedRecord holds what the session benchmark lacks: strings with escapes
// and non-ASCII text, and numbers with fractions, exponents and signs.
const mixedRecord = `[{"bio":"Line one\nLine \"two\"\t\u00e9t\u00e9 \ud83d\ude00 <b>&</b>","city":"Zürich","e":6.02e23,"neg":-17,"pi":3.14159,"ratio":-0.25,"small":1e-9,"uid":1234567890123456789},{"msg":"Saved \u2713"}]`

func BenchmarkParseMixed(b *testing.B) {
	data := []byte(mixedRecord)
	b.ReportAllocs()
	for range b.N {
		if _, _, _, err := ParseRecord(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendMixed encodes what an application stores through the
// session API: Go integers of several types, floats of every format,
// strings that need escaping, and nested maps and slices.
func BenchmarkAppendMixed(b *testing.B) {
	values := FieldsOf(map[string]any{
		"bio":   "Line one\nLine \"two\"\tété \U0001F600 <b>&</b>\u2028",
		"count": 7, "i64": int64(-1234567890123), "u32": uint32(42),
		"e": 6.02e23, "pi": 3.14159, "small": 1e-9, "f32": float32(0.1),
		"roles": []string{"admin", "editor"}, "prefs": map[string]any{"theme": "dark", "size": 12.0},
		"list": []any{1.0, "two", true, nil},
	})
	b.ReportAllocs()
	buf := make([]byte, 0, 512)
	var err error
	for range b.N {
		if buf, err = AppendRecord(buf[:0], values, nil, Meta{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFieldsGet looks up every key, and one absent key, in Fields of a
// session's size and of a larger one.
func BenchmarkFieldsGet(b *testing.B) {
	for _, n := range []int{3, 20} {
		var f Fields
		keys := []string{"absent"}
		for i := range n {
			k := "key" + strconv.Itoa(i)
			f.Set(k, i)
			keys = append(keys, k)
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for range b.N {
				for _, k := range keys {
					sinkAny, sinkOK = f.Get(k)
				}
			}
		})
	}
}

var (
	sinkAny any
	sinkOK  bool
)
