package session

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDataJSON(t *testing.T) {
	for _, tc := range []struct {
		d    Data
		want string
	}{
		{Data{}, `[{},{}]`},
		{Data{Values: map[string]any{"count": 1}}, `[{"count":1},{}]`},
		{Data{Values: map[string]any{"b": 2, "a": "x"}, Flash: map[string]any{"msg": "hi"}}, `[{"a":"x","b":2},{"msg":"hi"}]`},
		{Data{Values: map[string]any{"h": "<&>"}}, `[{"h":"\u003c\u0026\u003e"},{}]`},
	} {
		b, err := json.Marshal(tc.d)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", tc.d, b, err, tc.want)
		}
		if std, _ := json.Marshal([]any{nonNilMap(tc.d.Values), nonNilMap(tc.d.Flash)}); string(std) != string(b) {
			t.Errorf("differs from encoding/json: %s vs %s", b, std)
		}
	}
	var d Data
	if err := json.Unmarshal([]byte(`[{"count":1},{"msg":"hi"},{"c":1,"s":2}]`), &d); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, Data{Values: map[string]any{"count": 1.0}, Flash: map[string]any{"msg": "hi"}}) {
		t.Errorf("Unmarshal = %+v", d)
	}
	if err := json.Unmarshal([]byte(`{"a":1}`), &d); err == nil {
		t.Error("an object unmarshalled as Data")
	}
	if _, err := json.Marshal(Data{Values: map[string]any{"f": func() {}}}); err == nil {
		t.Error("an unencodable value marshalled")
	}
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func TestParseRecord(t *testing.T) {
	for _, tc := range []struct {
		in            string
		values, flash map[string]any
		m             meta
		ok            bool
	}{
		{`[{"a":1},{"f":2}]`, map[string]any{"a": 1.0}, map[string]any{"f": 2.0}, meta{}, true},
		{`[{"a":1}]`, map[string]any{"a": 1.0}, nil, meta{}, true},
		{`[]`, nil, nil, meta{}, true},
		{`[null,null]`, nil, nil, meta{}, true},
		{` [ {"a":1} , {} , {"c":1700000000000,"s":1700000000500} ] `, map[string]any{"a": 1.0}, map[string]any{}, meta{Created: 1700000000000, Saved: 1700000000500}, true},
		{`[{},{},{"c":-5,"s":"x"}]`, map[string]any{}, map[string]any{}, meta{}, true},
		{`[{},{},{"c":1e300}]`, map[string]any{}, map[string]any{}, meta{}, true},
		{`[{},{},{"c":2.9}]`, map[string]any{}, map[string]any{}, meta{Created: 2}, true},
		{`[{},{},5]`, map[string]any{}, map[string]any{}, meta{}, true},
		{`[{},{},{},"future"]`, map[string]any{}, map[string]any{}, meta{}, true},
		{`[1]`, nil, nil, meta{}, false},
		{`[{}, []]`, nil, nil, meta{}, false},
		{`{"a":1}`, nil, nil, meta{}, false},
		{`null`, nil, nil, meta{}, false},
		{`"x"`, nil, nil, meta{}, false},
		{``, nil, nil, meta{}, false},
		{`[{}`, nil, nil, meta{}, false},
		{`[{},{}] x`, nil, nil, meta{}, false},
		{`[{"a":1e999}]`, nil, nil, meta{}, false},
		{strings.Repeat("[", 20000), nil, nil, meta{}, false},
	} {
		values, flash, m, err := parseRecord([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("parseRecord(%.40s): err %v, want ok %v", tc.in, err, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		if !reflect.DeepEqual(values.Map(), tc.values) && !(len(values) == 0 && len(tc.values) == 0) ||
			!reflect.DeepEqual(flash.Map(), tc.flash) && !(len(flash) == 0 && len(tc.flash) == 0) || m != tc.m {
			t.Errorf("parseRecord(%s) = %v, %v, %+v; want %v, %v, %+v", tc.in, values, flash, m, tc.values, tc.flash, tc.m)
		}
	}
}
