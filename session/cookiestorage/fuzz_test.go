package cookiestorage_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
)

// FuzzRead feeds any cookie value to cookie storage, plain and sealed: Read
// never fails or panics, and gives a session with a valid id. (The payload
// parser itself is fuzzed in package session.)
func FuzzRead(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"i":"abc","d":[{"a":1},{"f":"x"}]}`, "\x00\x01\x02", `{"i":5,"d":5}`} {
		f.Add(s)
	}
	quiet := session.ClientOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	plain, err := cookiestorage.New(cookiestorage.Options{Session: quiet})
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := cookiestorage.New(cookiestorage.Options{Session: quiet, Keys: [][]byte{make([]byte, 32)}})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, value string) {
		for _, st := range []session.Storage{plain, sealed} {
			s, err := st.Read(ctx, value)
			if err != nil || !session.ValidID(s.ID()) {
				t.Fatalf("Read(%q) = %v, %v", value, s, err)
			}
		}
	})
}
