// Package interop holds no library code: its tests drive a Node.js helper
// (node/cookie.mjs, with node/session.mjs for the session ops) that runs the
// real @remix-run packages from npm, and check that sessionkit's cookie and
// session modules are wire-compatible with them in both directions. See
// README.md.
package interop
