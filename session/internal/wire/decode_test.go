package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/sessionkit/sessionkit/session/internal/wiretest"
	"math"
	"strings"
	"testing"
	"unsafe"
)

var jsonSeeds = []string{
	`null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `1.5`, `1e3`, `1E-7`, `1e21`, `123456789012345678901234567890`,
	`1e999`, `-1e999`, `01`, `1.`, `.5`, `-`, `+1`, `0x10`, `9007199254740993`, `-9007199254740993`,
	`9007199254740992`, `-9007199254740992`, `1234567890123456789`, `9223372036854775807`, `-9223372036854775808`,
	`9223372036854775808`, `18446744073709551615`, `18446744073709551616`, `-9223372036854775809`, `9007199254740993.0`,
	`""`, `"abc"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\u4e2d"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00\ud83d"`,
	`"\ud83d\u0041"`, `"\uZZZZ"`, `"\x"`, "\"\x01\"", "\"\xff\xfe\"", "\"é日本\"", `"<>&"`, "\"\u2028\u2029\"",
	`[]`, `[1,2,3]`, `[1,]`, `[,1]`, `[[[]]]`, `{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":1,}`, `{a:1}`, `{"a" 1}`,
	`[{"count":1},{}]`, `[{"count":1},{"msg":"hi"},{"c":1700000000000,"s":1700000000001}]`,
	`  [ {  } , { } ]  `, `[{"a":[1,{"b":null}]}]`, `[] x`, `{"a":"b"}}`, `{"a":1 2}`, `{"a":1`, `[{"a":1 x]`, `[1 2]`, `"unterminated`, `[1`, `{"a":`, `tru`, `nul`, ``,
	strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), strings.Repeat("[", 100) + strings.Repeat("]", 100),
	`{"uid":1234567890123456789,"n":[18446744073709551615,-1234567890123456789]}`,
}

// FuzzDecode checks decode against encoding/json: an error for every input
// json.Unmarshal refuses, and for every other the values it gives, except
// the deliberate difference in numbers: a whole number past ±2^53 that fits
// an int64 or uint64 must be that exact integer where encoding/json gives
// the nearest float64 (wiretest.SameNumber compares against the literal itself).
func FuzzDecode(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decode(data)
		var plain any
		wantErr := json.Unmarshal(data, &plain)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("decode(%q): err %v, encoding/json err %v", data, err, wantErr)
		}
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json with UseNumber refuses %q: %v", data, err)
		}
		if !wiretest.EqualJSON(got, want) {
			t.Fatalf("decode(%q) = %#v, encoding/json %#v", data, got, want)
		}
	})
}

func TestDecodeIntegers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
	}{
		{`0`, 0.0},
		{`42`, 42.0},
		{`-42`, -42.0},
		{`999999999999999`, 999999999999999.0},
		{`9007199254740992`, 9007199254740992.0},
		{`-9007199254740992`, -9007199254740992.0},
		{`9007199254740993`, int64(9007199254740993)},
		{`-9007199254740993`, int64(-9007199254740993)},
		{`1234567890123456789`, int64(1234567890123456789)},
		{`9223372036854775807`, int64(math.MaxInt64)},
		{`-9223372036854775808`, int64(math.MinInt64)},
		{`9223372036854775808`, uint64(1 << 63)},
		{`18446744073709551615`, uint64(math.MaxUint64)},
		{`18446744073709551616`, 18446744073709551616.0},
		{`-9223372036854775809`, -9223372036854775809.0},
		{`9007199254740993.0`, 9007199254740992.0},
		{`9.007199254740993e15`, 9007199254740992.0},
		{`1e19`, 1e19},
	} {
		got, err := decode([]byte(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("decode(%s) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
	neg, err := decode([]byte(`-0`))
	if f, ok := neg.(float64); err != nil || !ok || !math.Signbit(f) {
		t.Errorf("decode(-0) = %#v, %v; want negative zero", neg, err)
	}
}

func TestDecodeDepth(t *testing.T) {
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := decode([]byte(ok)); err != nil {
		t.Fatalf("depth %d: %v", MaxDepth, err)
	}
	deep := "[" + ok + "]"
	if _, err := decode([]byte(deep)); !errors.Is(err, ErrTooDeep) || !errors.Is(err, ErrSyntax) {
		t.Fatalf("depth %d: %v, want ErrTooDeep and ErrSyntax", MaxDepth+1, err)
	}
}

// A small input's strings are substrings of it; a large one's are copies,
// so that a string a caller keeps does not keep the record alive.
func TestDecodeStringsShareOnlySmallInputs(t *testing.T) {
	inside := func(s, data string) bool {
		p, start := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(data)))
		return p >= start && p < start+uintptr(len(data))
	}
	for _, size := range []int{100, shareLimit, shareLimit + 1, 100000} {
		pad := strings.Repeat("x", size-len(`{"key":"value","pad":""}`))
		data := `{"key":"value","pad":"` + pad + `"}`
		if len(data) != size {
			t.Fatalf("input is %d bytes, want %d", len(data), size)
		}
		d := newDecoder(data, MaxDepth)
		v, err := d.value()
		if err != nil {
			t.Fatal(err)
		}
		m := v.(map[string]any)
		var key string
		for k := range m {
			if k == "key" {
				key = k
			}
		}
		share := size <= shareLimit
		if got := inside(m["key"].(string), data); got != share {
			t.Errorf("%d bytes: value shares the input: %v, want %v", size, got, share)
		}
		if got := inside(key, data); got != share {
			t.Errorf("%d bytes: key shares the input: %v, want %v", size, got, share)
		}
	}
}
