// Package bench compares sessionkit with alexedwards/scs and gorilla/sessions
// in one run, on the same machine, doing the same work: one full HTTP request
// that loads a session holding user_id=42 and name="alice", reads it, and
// (for the writing benchmarks) increments a counter and saves, sending a
// Set-Cookie.
//
// BenchmarkScaffold times the httptest request and recorder alone; subtract
// it from every other figure to get the session work of a request. Run
//
//	cd bench && go test -run '^$' -bench . -benchmem -count 10 -cpu 1
//
// (or `make bench`, which prints one comparison table through cmd/benchtable)
// and compare with benchstat. On a small, shared VM, -cpu 1 keeps the garbage
// collector's parallel work from swinging the figures by ±20%. No user module
// depends on this one.
package bench
