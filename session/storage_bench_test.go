package session_test

import (
	"context"
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/filestorage"
	"github.com/sessionkit/sessionkit/session/memorystorage"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// The session work of one request on each storage of the module
// (sessiontest.Benchmark); no HTTP scaffolding (see session-middleware and
// bench/ for full requests).

func BenchmarkMemoryLoadSave(b *testing.B) { sessiontest.Benchmark(b, benchMemory(b, ""), true) }
func BenchmarkMemoryReadOnly(b *testing.B) { sessiontest.Benchmark(b, benchMemory(b, ""), false) }
func BenchmarkFileLoadSave(b *testing.B)   { sessiontest.Benchmark(b, benchFile(b, ""), true) }
func BenchmarkFileReadOnly(b *testing.B)   { sessiontest.Benchmark(b, benchFile(b, ""), false) }

// With an Observer that does nothing, the cost of computing the events
// (each event's handle, a clock read per storage call); without one, the
// storages do no work for events: compare with BenchmarkMemoryLoadSave and
// BenchmarkMemoryReadOnly.
func BenchmarkMemoryLoadSaveObserved(b *testing.B) {
	sessiontest.Benchmark(b, benchMemoryObserved(b), true)
}

func BenchmarkMemoryReadOnlyObserved(b *testing.B) {
	sessiontest.Benchmark(b, benchMemoryObserved(b), false)
}

func BenchmarkCookieLoadSave(b *testing.B) {
	sessiontest.Benchmark(b, benchCookie(b, cookiestorage.Options{}), true)
}

func BenchmarkCookieSealedLoadSave(b *testing.B) {
	sessiontest.Benchmark(b, benchCookie(b, cookiestorage.Options{Keys: [][]byte{make([]byte, 32)}}), true)
}

func BenchmarkCookieReadOnly(b *testing.B) {
	sessiontest.Benchmark(b, benchCookie(b, cookiestorage.Options{}), false)
}

// benchMemory is a memory storage with the per-user index on userKey ("":
// none).
func benchMemory(b *testing.B, userKey string) session.Storage {
	st, err := memorystorage.New(memorystorage.Options{Session: session.Options{UserKey: userKey}})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// benchMemoryObserved is a memory storage whose Observer does nothing.
func benchMemoryObserved(b *testing.B) session.Storage {
	nop := session.ObserverFunc(func(context.Context, session.Event) {})
	st, err := memorystorage.New(memorystorage.Options{Session: session.Options{Observer: nop}})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// benchFile is a file storage in a fresh directory, with the per-user index
// on userKey ("": none).
func benchFile(b *testing.B, userKey string) session.Storage {
	st, err := filestorage.New(b.TempDir(), filestorage.Options{Session: session.Options{UserKey: userKey}})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

func benchCookie(b *testing.B, o cookiestorage.Options) session.Storage {
	st, err := cookiestorage.New(o)
	if err != nil {
		b.Fatal(err)
	}
	return st
}
