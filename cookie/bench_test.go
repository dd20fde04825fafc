package cookie_test

import (
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/cookie"
)

// sessionID is the size of a 32-byte random id in unpadded base64url, the
// typical value of a session cookie.
const sessionID = "Xk3J9qL2vR8sT1uW4yZ6aB0cD5eF7gH3iJ2kL9mN4oP"

var benchSecrets = []string{"a-32-byte-secret-for-benchmarks!", "an-older-secret-still-verifying"}

func benchCookies(b *testing.B) []struct {
	name string
	c    *cookie.Cookie
} {
	return []struct {
		name string
		c    *cookie.Cookie
	}{
		{"Native/Unsigned", mustNew(b, "__Host-sid", cookie.Options{Secure: true, HTTPOnly: true})},
		{"Native/Signed", mustNew(b, "__Host-sid", cookie.Options{Secure: true, HTTPOnly: true, Secrets: benchSecrets})},
		{"Remix/Unsigned", mustNew(b, "__Host-sid", cookie.Options{Secure: true, HTTPOnly: true, Format: cookie.Remix})},
		{"Remix/Signed", mustNew(b, "__Host-sid", cookie.Options{Secure: true, HTTPOnly: true, Format: cookie.Remix, Secrets: benchSecrets})},
	}
}

var (
	sinkString string
	sinkOK     bool
)

func BenchmarkParse(b *testing.B) {
	for _, bc := range benchCookies(b) {
		// A browser sends other cookies too.
		header := "_ga=GA1.2.123456789.1700000000; theme=dark; " + pair(mustSerialize(b, bc.c, sessionID)) + "; lang=en"
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sinkString, sinkOK = bc.c.Parse(header)
			}
			if !sinkOK || sinkString != sessionID {
				b.Fatalf("Parse = %q, %v", sinkString, sinkOK)
			}
		})
	}
}

func BenchmarkSerialize(b *testing.B) {
	for _, bc := range benchCookies(b) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var err error
			for i := 0; i < b.N; i++ {
				sinkString, err = bc.c.Serialize(sessionID)
			}
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkSignedRoundTrip is the cookie work of one request that reads and
// rewrites a signed session cookie: a Parse and a Serialize, Native format.
func BenchmarkSignedRoundTrip(b *testing.B) {
	c := mustNew(b, "__Host-sid", cookie.Options{Secure: true, HTTPOnly: true, Secrets: benchSecrets})
	header := pair(mustSerialize(b, c, sessionID))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, ok := c.Parse(header)
		if !ok {
			b.Fatal("Parse failed")
		}
		line, err := c.Serialize(v)
		if err != nil {
			b.Fatal(err)
		}
		sinkString = line
	}
}

// BenchmarkReceivedRoundTrip is BenchmarkSignedRoundTrip through
// ParseReceived and SerializeReceived: the same value sent back without a
// second HMAC, as the session middleware does for a session id.
func BenchmarkReceivedRoundTrip(b *testing.B) {
	c := mustNew(b, "__Host-sid", cookie.Options{Secure: true, HTTPOnly: true, Secrets: benchSecrets})
	header := pair(mustSerialize(b, c, sessionID))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, ok := c.ParseReceived(header)
		if !ok {
			b.Fatal("ParseReceived failed")
		}
		line, err := c.SerializeReceived(&r, 0)
		if err != nil {
			b.Fatal(err)
		}
		sinkString = line
	}
}

// BenchmarkParseLarge reads a 1 KB value, the size of a cookie-stored
// session, where the cost of decoding shows.
func BenchmarkParseLarge(b *testing.B) {
	value := strings.Repeat(`{"count":1},`, 85)
	for _, bc := range benchCookies(b) {
		header := "theme=dark; " + pair(mustSerialize(b, bc.c, value))
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sinkString, sinkOK = bc.c.Parse(header)
			}
			if !sinkOK || sinkString != value {
				b.Fatalf("Parse = %q, %v", sinkString, sinkOK)
			}
		})
	}
}

// BenchmarkSerializeLarge writes a 1 KB value, the size of a cookie-stored
// session, where the cost of encoding and copying shows.
func BenchmarkSerializeLarge(b *testing.B) {
	value := strings.Repeat(`{"count":1},`, 85)
	for _, bc := range benchCookies(b) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var err error
			for i := 0; i < b.N; i++ {
				sinkString, err = bc.c.Serialize(value)
			}
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}
