package cookie_test

import (
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/cookie"
)

// TestSerializeReceived checks that sending a received value back writes
// exactly what SerializeMaxAge writes, in every case where the signature
// can be reused and every case where it must not be.
func TestSerializeReceived(t *testing.T) {
	newSigned := func(format cookie.Format, secrets ...string) *cookie.Cookie {
		return mustNew(t, "sid", cookie.Options{Format: format, Secrets: secrets, HTTPOnly: true})
	}
	native := newSigned(cookie.Native, "new", "old")
	remix := newSigned(cookie.Remix, "new", "old")
	oldNative := newSigned(cookie.Native, "old")
	oldRemix := newSigned(cookie.Remix, "old")
	const value = "Zm9vYmFyYmF6cXV4cXV1eGZyb2JuaWNhdGVnYXJwbHk"

	tests := []struct {
		name   string
		c      *cookie.Cookie
		header string
		secret int
	}{
		{"Native, current secret", native, pair(mustSerialize(t, native, value)), 0},
		{"Native, older secret", native, pair(mustSerialize(t, oldNative, value)), 1},
		{"Native, among other cookies", native, "a=1; " + pair(mustSerialize(t, native, value)) + "; b=2", 0},
		{"Native, quoted", native, `sid="` + strings.TrimPrefix(pair(mustSerialize(t, native, value)), "sid=") + `"`, 0},
		{"Remix, current secret", remix, pair(mustSerialize(t, remix, value)), 0},
		{"Remix, older secret", remix, pair(mustSerialize(t, oldRemix, value)), 1},
		{"Remix, lenient signature padding", remix, pair(mustSerialize(t, remix, value)) + "=", 0},
		{"Remix, lenient white space", remix, strings.Replace(pair(mustSerialize(t, remix, value)), "sid=", "sid= ", 1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := tt.c.ParseReceived(tt.header)
			if !ok || r.Value != value || r.Secret != tt.secret {
				t.Fatalf("ParseReceived(%q) = %q, %d, %v; want %q, %d, true", tt.header, r.Value, r.Secret, ok, value, tt.secret)
			}
			for _, maxAge := range []int{-1, 0, 3600} {
				want, err := tt.c.SerializeMaxAge(value, maxAge)
				if err != nil {
					t.Fatal(err)
				}
				got, err := tt.c.SerializeReceived(&r, maxAge)
				if err != nil || got != want {
					t.Fatalf("SerializeReceived(maxAge %d) = %q, %v; want %q", maxAge, got, err, want)
				}
				// What goes out verifies with Secrets[0].
				if v, secret, ok := tt.c.ParseSecret(pair(got)); !ok || v != value || secret != 0 {
					t.Fatalf("ParseSecret(SerializeReceived) = %q, %d, %v", v, secret, ok)
				}
			}
		})
	}
}

// TestSerializeReceivedOtherCookie checks that a Received never lends its
// signature to a Cookie other than the one that read it, even one with the
// same name and options.
func TestSerializeReceivedOtherCookie(t *testing.T) {
	a := mustNew(t, "sid", cookie.Options{Secrets: []string{"secret-a"}})
	b := mustNew(t, "sid", cookie.Options{Secrets: []string{"secret-b"}})
	r, ok := a.ParseReceived(pair(mustSerialize(t, a, "v")))
	if !ok {
		t.Fatal("ParseReceived failed")
	}
	got, err := b.SerializeReceived(&r, 0)
	want := mustSerialize(t, b, "v")
	if err != nil || got != want {
		t.Fatalf("b.SerializeReceived(a's Received) = %q, %v; want b's own %q", got, err, want)
	}
	if _, ok := a.Parse(pair(got)); ok {
		t.Fatal("a verified a line that b wrote: b reused a's signature")
	}
}

// TestParseReceivedRefused checks that what ParseSecret refuses,
// ParseReceived refuses too, and that the Received it returns then holds
// nothing to send: SerializeReceived of it is an empty cookie.
func TestParseReceivedRefused(t *testing.T) {
	c := mustNew(t, "sid", cookie.Options{Secrets: []string{"s"}})
	good := pair(mustSerialize(t, c, "value"))
	for _, header := range []string{
		"", "other=1", "sid", good[:len(good)-1] + "A", "sid=" + strings.Repeat("A", 5000),
		strings.Replace(good, ".", "x.", 1),
	} {
		r, ok := c.ParseReceived(header)
		if ok || r.Value != "" || r.Secret != -1 {
			t.Fatalf("ParseReceived(%q) = %q, %d, %v; want refused", header, r.Value, r.Secret, ok)
		}
		got, err := c.SerializeReceived(&r, 0)
		if want := mustSerialize(t, c, ""); err != nil || got != want {
			t.Fatalf("SerializeReceived of a refused Received = %q, %v; want %q", got, err, want)
		}
	}
	var zero cookie.Received
	if got, err := c.SerializeReceived(&zero, 0); err != nil || got != mustSerialize(t, c, "") {
		t.Fatalf("SerializeReceived(zero) = %q, %v", got, err)
	}
}
