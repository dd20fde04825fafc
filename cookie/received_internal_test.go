package cookie

import (
	"strings"
	"testing"
)

// TestSerializeReceivedReusesSignature checks that the signature really is
// reused, not computed again: a Received whose kept signature is altered
// sends the altered one (a line that then fails to verify), which a fresh
// HMAC would not. TestSerializeReceived checks that the reused one is
// right.
func TestSerializeReceivedReusesSignature(t *testing.T) {
	for _, format := range []Format{Native, Remix} {
		c, err := New("sid", Options{Format: format, Secrets: []string{"new", "old"}})
		if err != nil {
			t.Fatal(err)
		}
		line, err := c.Serialize("session-id")
		if err != nil {
			t.Fatal(err)
		}
		r, ok := c.ParseReceived(strings.SplitN(line, ";", 2)[0])
		if !ok || !r.signedBy(c) {
			t.Fatalf("%v: ParseReceived = %+v, %v; want a signature kept", format, r, ok)
		}
		r.sum[0] ^= 1
		got, err := c.SerializeReceived(&r, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got == line {
			t.Fatalf("%v: SerializeReceived signed again instead of reusing the kept signature", format)
		}
		if _, ok := c.Parse(strings.SplitN(got, ";", 2)[0]); ok {
			t.Fatalf("%v: the altered signature verified", format)
		}
		// An older secret's signature is never kept.
		old, err := New("sid", Options{Format: format, Secrets: []string{"old"}})
		if err != nil {
			t.Fatal(err)
		}
		oldLine, _ := old.Serialize("session-id")
		r, ok = c.ParseReceived(strings.SplitN(oldLine, ";", 2)[0])
		if !ok || r.Secret != 1 || r.signedBy(c) {
			t.Fatalf("%v: older secret: ParseReceived = %+v, %v", format, r, ok)
		}
	}
}
