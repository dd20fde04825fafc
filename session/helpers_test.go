package session_test

import (
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/filestorage"
	"github.com/sessionkit/sessionkit/session/memorystorage"
)

// mustStorage is session.NewBackendStorage(b, o), failing t on an error.
func mustStorage(t testing.TB, b session.Backend, o session.Options) session.Storage {
	t.Helper()
	st, err := session.NewBackendStorage(b, o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// newMemory is a memory storage with the options o.
func newMemory(t testing.TB, o session.Options) session.Storage {
	t.Helper()
	st, err := memorystorage.New(memorystorage.Options{Session: o})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// newFile is a file storage in dir with the options o.
func newFile(t testing.TB, dir string, o session.Options) session.Storage {
	t.Helper()
	st, err := filestorage.New(dir, filestorage.Options{Session: o})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
