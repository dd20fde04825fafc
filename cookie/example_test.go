package cookie_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sessionkit/sessionkit/cookie"
)

func ExampleNew() {
	c, err := cookie.New("__Host-session", cookie.Options{
		Secure:   true,
		HTTPOnly: true,
		Secrets:  []string{"use 32 or more random bytes here"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Name(), c.Signed())

	// Mistakes are errors from New that name the field, never a bad header.
	_, err = cookie.New("__Host-session", cookie.Options{Secure: true, Domain: "example.com"})
	fmt.Println(err)
	_, err = cookie.New("id", cookie.Options{Path: "/; Domain=evil.example"})
	fmt.Println(err)
	// Output:
	// __Host-session true
	// cookie "__Host-session": a __Host- name forbids Options.Domain
	// cookie "id": Options.Path "/; Domain=evil.example": byte ';' at 1 is not allowed in a cookie path
}

func ExampleCookie_Serialize() {
	c, _ := cookie.New("theme", cookie.Options{MaxAge: 30 * 24 * 3600})
	line, _ := c.Serialize("dark")
	fmt.Println(line)

	signed, _ := cookie.New("sid", cookie.Options{HTTPOnly: true, Secure: true, Secrets: []string{"s3cr3t"}})
	line, _ = signed.Serialize("user-42")
	fmt.Println(line)

	// A value a browser would drop is an error.
	_, err := c.Serialize(strings.Repeat("x", 4000))
	fmt.Println(errors.Is(err, cookie.ErrTooLarge))

	// In a handler:
	w := httptest.NewRecorder()
	w.Header().Add("Set-Cookie", line)
	fmt.Println(w.Header().Get("Set-Cookie") == line)
	// Output:
	// theme=ZGFyaw; Max-Age=2592000; Path=/; SameSite=Lax
	// sid=dXNlci00Mg.ppnLCjwV1tphQRLp4K9N8xim0Sx_5oWt8amZs6JLtKU; HttpOnly; Path=/; SameSite=Lax; Secure
	// true
	// true
}

func ExampleCookie_Parse() {
	c, _ := cookie.New("sid", cookie.Options{Secrets: []string{"s3cr3t"}})
	line, _ := c.Serialize("user-42")
	sent, _, _ := strings.Cut(line, "; ") // what the browser sends back

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Add("Cookie", "theme=ZGFyaw; "+sent)
	fmt.Println(c.Parse(strings.Join(r.Header.Values("Cookie"), "; ")))

	// Absent, forged or undecodable: ok is false, and a fresh session starts.
	fmt.Println(c.Parse("theme=ZGFyaw"))
	fmt.Println(c.Parse(strings.Replace(sent, "dXNlci00Mg", "dXNlci00Mw", 1)))
	// Present and empty, as a destroyed session is written:
	fmt.Println(c.Parse("sid="))
	// Output:
	// user-42 true
	//  false
	//  false
	//  true
}

func ExampleCookie_Expire() {
	c, _ := cookie.New("sid", cookie.Options{Domain: "example.com", HTTPOnly: true, Secure: true})
	fmt.Println(c.Expire())
	// Output:
	// sid=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=0; Path=/; SameSite=Lax; Secure
}

// The Remix format reads and writes the cookies of @remix-run/cookie 0.7.
func ExampleFormat_remix() {
	c, _ := cookie.New("my-cookie", cookie.Options{Format: cookie.Remix, Secrets: []string{"secret1"}})
	line, _ := c.Serialize("hello michael")
	fmt.Println(line)
	fmt.Println(c.Parse("my-cookie=aGVsbG8gbWljaGFlbA==.l0AO5zb2EYpis03IWkyVTe1yo8hsSc7crMvLqdOsfg0"))
	// Output:
	// my-cookie=aGVsbG8gbWljaGFlbA==.l0AO5zb2EYpis03IWkyVTe1yo8hsSc7crMvLqdOsfg0; Path=/; SameSite=Lax
	// hello michael true
}

// To rotate a secret, put the new one first: old cookies still verify, and
// every cookie written from then on is signed with the new secret.
func Example_rotation() {
	before, _ := cookie.New("sid", cookie.Options{Secrets: []string{"old"}})
	after, _ := cookie.New("sid", cookie.Options{Secrets: []string{"new", "old"}})

	line, _ := before.Serialize("user-42")
	sent, _, _ := strings.Cut(line, "; ")
	v, ok := after.Parse(sent)
	fmt.Println(v, ok)

	line, _ = after.Serialize(v)
	sent, _, _ = strings.Cut(line, "; ")
	newOnly, _ := cookie.New("sid", cookie.Options{Secrets: []string{"new"}})
	fmt.Println(newOnly.Parse(sent))
	// Output:
	// user-42 true
	// user-42 true
}

// ParseSecret tells which secret verified a cookie; one that an older
// secret signed is re-signed with Secrets[0] by serializing its value again.
func ExampleCookie_ParseSecret() {
	before, _ := cookie.New("sid", cookie.Options{Secrets: []string{"old"}})
	after, _ := cookie.New("sid", cookie.Options{Secrets: []string{"new", "old"}})

	line, _ := before.Serialize("user-42")
	sent, _, _ := strings.Cut(line, "; ")
	value, secret, ok := after.ParseSecret(sent)
	fmt.Println(value, secret, ok)
	if ok && secret > 0 {
		line, _ = after.Serialize(value) // signed with "new"
	}
	sent, _, _ = strings.Cut(line, "; ")
	fmt.Println(after.ParseSecret(sent))
	// Output:
	// user-42 1 true
	// user-42 0 true
}

// Encode and Decode carry the signed value without a cookie, as a token in a
// request header; a changed token does not decode.
func ExampleCookie_Encode() {
	c, _ := cookie.New("sid", cookie.Options{Secrets: []string{"s3cr3t"}})
	token, _ := c.Encode("user-42")
	fmt.Println(token)
	fmt.Println(c.Decode(token))
	fmt.Println(c.Decode("x" + token))
	// Output:
	// dXNlci00Mg.ppnLCjwV1tphQRLp4K9N8xim0Sx_5oWt8amZs6JLtKU
	// user-42 true
	//  false
}

// SerializeMaxAge chooses the cookie's lifetime for one response: a
// persistent cookie, or one that lasts for the browser session.
func ExampleCookie_SerializeMaxAge() {
	c, _ := cookie.New("sid", cookie.Options{HTTPOnly: true})
	persistent, _ := c.SerializeMaxAge("user-42", 1800)
	browserSession, _ := c.SerializeMaxAge("user-42", 0)
	fmt.Println(persistent)
	fmt.Println(browserSession)
	// Output:
	// sid=dXNlci00Mg; HttpOnly; Max-Age=1800; Path=/; SameSite=Lax
	// sid=dXNlci00Mg; HttpOnly; Path=/; SameSite=Lax
}

// SerializeReceived sends a received value back with the signature it came
// with: the same line as SerializeMaxAge, without a second HMAC.
func ExampleCookie_SerializeReceived() {
	c, _ := cookie.New("sid", cookie.Options{Secrets: []string{"s3cr3t"}, HTTPOnly: true})
	line, _ := c.Serialize("user-42")
	sent, _, _ := strings.Cut(line, "; ")

	rc, ok := c.ParseReceived(sent)
	fmt.Println(rc.Value, rc.Secret, ok)
	again, _ := c.SerializeReceived(&rc, 3600)
	want, _ := c.SerializeMaxAge("user-42", 3600)
	fmt.Println(again)
	fmt.Println(again == want)
	// Output:
	// user-42 0 true
	// sid=dXNlci00Mg.ppnLCjwV1tphQRLp4K9N8xim0Sx_5oWt8amZs6JLtKU; HttpOnly; Max-Age=3600; Path=/; SameSite=Lax
	// true
}
