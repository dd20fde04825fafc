package interop

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/cookie"
)

// seedEnv fixes the seed of the randomized tests, to replay a failure.
const seedEnv = "SESSIONKIT_INTEROP_SEED"

func testRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(seedEnv); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", seedEnv, s, err)
		}
		seed = n
	}
	t.Logf("seed %d (replay with %s=%d)", seed, seedEnv, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// randomText returns valid UTF-8 mixing every encoded length (1 to 4
// bytes), the bytes that matter to cookies and base64, controls, the edges
// around the surrogate block and the last code point.
func randomText(rng *rand.Rand) string {
	n := rng.IntN(40)
	if rng.IntN(10) == 0 {
		n = rng.IntN(700)
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		var r rune
		switch rng.IntN(9) {
		case 0, 1:
			r = rune(0x20 + rng.IntN(0x5f)) // printable ASCII
		case 2:
			r = rune([]byte(".=+/; \"\\%,-_'\t")[rng.IntN(14)])
		case 3:
			r = rune(rng.IntN(0x20)) // C0 controls and NUL
		case 4:
			r = rune(0x80 + rng.IntN(0x780)) // two bytes
		case 5:
			r = rune(0x800 + rng.IntN(0xD800-0x800)) // three bytes, below surrogates
		case 6:
			r = rune(0xE000 + rng.IntN(0x10000-0xE000)) // three bytes, above surrogates
		case 7:
			r = rune(0x10000 + rng.IntN(0x110000-0x10000)) // four bytes
		case 8:
			edges := []rune{0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfeff, 0xfffd, 0xfffe, 0xffff,
				0x10000, 0x1f600, 0x1f1ef, 0x200d, 0xfe0f, 0x10ffff, 0x2028, 0x2029, 0xa0}
			r = edges[rng.IntN(len(edges))]
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestRandomUTF8 round-trips 200 random UTF-8 strings both ways, signed and
// unsigned: identical Set-Cookie lines, and each side reads the other's
// cookie as the original string.
func TestRandomUTF8(t *testing.T) {
	r := startRemix(t)
	rng := testRand(t)
	unsigned := newPair(t, r, "c", cookie.Options{})
	signed := newPair(t, r, "session", cookie.Options{Secrets: []string{"new 🔑", "old"}, HTTPOnly: true})
	for i := 0; i < 200; i++ {
		v := randomText(rng)
		if !utf8.ValidString(v) {
			t.Fatalf("generator made invalid UTF-8 %q", v)
		}
		unsigned.roundTrip(v)
		signed.roundTrip(v)
		if t.Failed() {
			t.Fatalf("stopping at string %d, %q", i, v)
		}
	}
}

// TestRandomTampering mutates valid cookies at random (insert, delete or
// replace bytes that matter to base64, quoting and the Cookie header) and
// checks that Go and Remix give the same answer, apart from the pinned
// differences of TestCookieHeaderDifferences, which the mutation alphabet
// avoids (backslash, non-ASCII white space, vertical tab) or which are
// skipped (a leading quote not closed at the very end). Every accepted
// mutation of a signed cookie must read as the original value: a change
// that verifies can only be an equivalent spelling.
func TestRandomTampering(t *testing.T) {
	r := startRemix(t)
	rng := testRand(t)
	alphabet := strings.Split("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=.-_ \t\";,%\x00", "")
	alphabet = append(alphabet, "é", "==", "\"\"")
	pairs := []*pair{
		newPair(t, r, "c", cookie.Options{Secrets: []string{"secret1"}}),
		newPair(t, r, "c", cookie.Options{}),
	}
	for i := 0; i < 600; i++ {
		p := pairs[i%2]
		orig := randomText(rng)
		if orig == "" {
			orig = "x"
		}
		h := requestHeader(p.goSerialize(orig))
		b := []byte(h[len("c="):])
		for k := 1 + rng.IntN(3); k > 0; k-- {
			pos := rng.IntN(len(b) + 1)
			for pos < len(b) && !utf8.RuneStart(b[pos]) {
				pos++ // never split a multi-byte character
			}
			c := alphabet[rng.IntN(len(alphabet))]
			switch rng.IntN(3) {
			case 0:
				b = append(b[:pos], append([]byte(c), b[pos:]...)...)
			case 1:
				if pos < len(b) && b[pos] < utf8.RuneSelf {
					b = append(b[:pos], b[pos+1:]...)
				}
			case 2:
				if pos < len(b) && b[pos] < utf8.RuneSelf {
					b = append(b[:pos], append([]byte(c), b[pos+1:]...)...)
				}
			}
		}
		if rng.IntN(8) == 0 {
			b = append(append([]byte{'"'}, b...), '"')
		}
		if len(b) > 1 && b[0] == '"' && strings.Count(string(b), `"`) != 2 || len(b) > 0 && b[0] == '"' && b[len(b)-1] != '"' {
			// A leading quote with anything but a closing quote at the
			// end is a pinned difference (TestCookieHeaderDifferences):
			// Remix reads the quoted prefix.
			continue
		}
		mutated := "c=" + string(b)
		v, ok := p.agree(mutated)
		// An empty value ("c=", "c=;…") reads as "" without any signature,
		// on both sides: that is how a destroyed session round-trips.
		if ok && p.gc.Signed() && v != orig && v != "" {
			t.Errorf("mutated signed cookie %q verified as %q (original %q)", mutated, v, orig)
		}
		if t.Failed() {
			t.Fatalf("stopping at mutation %d", i)
		}
	}
}
