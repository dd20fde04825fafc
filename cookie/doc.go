// Package cookie encodes, signs, verifies and decodes HTTP cookies, with
// every attribute validated when the cookie is made rather than when a
// request is served.
//
// A Cookie is configured once with New and then used on every request:
//
//	c, err := cookie.New("__Host-session", cookie.Options{
//		Secure:   true,
//		HTTPOnly: true,
//		Secrets:  []string{os.Getenv("SESSION_SECRET")}, // 32+ random bytes
//	})
//	if err != nil {
//		log.Fatal(err) // a bad name, domain, path, prefix rule or secret
//	}
//
//	// Writing: a whole Set-Cookie header value.
//	line, err := c.Serialize("user-42")
//	if err != nil {
//		return err // errors.Is(err, cookie.ErrTooLarge): the browser would drop it
//	}
//	w.Header().Add("Set-Cookie", line)
//
//	// Reading: ok is false when the cookie is absent, forged or undecodable.
//	value, ok := c.Parse(r.Header.Get("Cookie"))
//
// # Formats
//
// The Native format (the default) writes unpadded base64url and, when the
// cookie has secrets, an HMAC-SHA256 over "name=value", so a value signed for
// one cookie does not verify as another. The Remix format is byte-for-byte
// the format of @remix-run/cookie 0.7 (padded standard base64, HMAC over the
// encoded value), so that a Remix application and a Go service that share
// the secrets read each other's cookies.
//
// # Secrets and rotation
//
// Secrets[0] signs; Parse tries every secret in order. To rotate, put the new
// secret first and keep the old one until the cookies it signed have expired,
// or until they have been re-signed: ParseSecret reports which secret
// verified a cookie, and Serialize of the same value signs it with the new
// one (the session middleware does this on every response).
// Signing makes a cookie tamper-proof, not secret: anyone holding it can read
// the value. Encrypt server-side (the session package's cookie storage can
// seal its payload with AES-GCM) when the value must stay private.
//
// # Tokens and per-response lifetimes
//
// Encode and Decode handle the signed value alone, without a name or
// attributes, for transports other than a cookie (a token in an
// Authorization header): the same secrets, rotation (DecodeSecret) and size
// limit as a cookie, and Decode fails only as Parse does, with ok=false.
// SerializeMaxAge writes the cookie with a Max-Age chosen for one response,
// or none, instead of Options.MaxAge and Options.Expires. ParseReceived and
// SerializeReceived send a value back as it came, reusing the signature it
// arrived with instead of computing it again (a session id, sent back on
// every saving response).
//
// # Errors
//
// Configuration mistakes are errors from New, naming the field. A cookie a
// client sends can never produce an error: Parse reports ok=false and the
// caller starts afresh. Serialize fails only for values a browser would not
// keep (ErrTooLarge) or, in the Remix format, that are not UTF-8
// (ErrInvalidUTF8).
package cookie
