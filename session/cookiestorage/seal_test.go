package cookiestorage

import (
	"strings"
	"testing"
)

// The sealing and opening of the codec on their own (the storage benchmarks
// measure them inside a whole load+save).

func sealBenchCodec(b *testing.B) *codec {
	c, err := newCodec(Options{Keys: [][]byte{make([]byte, 32)}})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

var sealBenchPayload = []byte(`{"i":"` + strings.Repeat("x", 43) + `","d":[{"count":1,"roles":["admin","editor"],"user":"alice@example.com"},{},{"c":1700000000000,"s":1700000000000}]}`)

func BenchmarkEncodeSealed(b *testing.B) {
	c := sealBenchCodec(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Encode(sealBenchPayload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSealed(b *testing.B) {
	c := sealBenchCodec(b)
	sealed, err := c.Encode(sealBenchPayload)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Decode(sealed); err != nil {
			b.Fatal(err)
		}
	}
}

// A sealed value opens to the payload, and one changed anywhere does not.
func TestSealRoundTrip(t *testing.T) {
	c, err := newCodec(Options{Keys: [][]byte{make([]byte, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := c.Encode(sealBenchPayload)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Decode(sealed); err != nil || got != string(sealBenchPayload) {
		t.Fatalf("Decode = %q, %v", got, err)
	}
	for i := range len(sealed) {
		b := []byte(sealed)
		b[i] ^= 1
		if _, err := c.Decode(string(b)); err == nil {
			t.Fatalf("a value changed at byte %d opens", i)
		}
	}
}
