// Command hello counts a visitor's page views in a session kept in files
// under ./sessions. The root README quotes this file whole.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	sessionmiddleware "github.com/sessionkit/sessionkit/session-middleware"
	"github.com/sessionkit/sessionkit/session/filestorage"
)

func main() {
	secret := os.Getenv("SESSION_SECRET")
	if secret == "" {
		log.Fatal("SESSION_SECRET is not set: it signs the session cookie; " +
			"set it to 32+ random characters, e.g. export SESSION_SECRET=$(openssl rand -base64 32)")
	}
	handler, err := newHandler(secret, "sessions")
	if err != nil {
		log.Fatal(err)
	}
	log.Print("listening on http://localhost:8080")
	log.Fatal(http.ListenAndServe("localhost:8080", handler))
}

func newHandler(secret, dir string) (http.Handler, error) {
	c, err := cookie.New("session", cookie.Options{Secrets: []string{secret}})
	if err != nil {
		return nil, err
	}
	st, err := filestorage.New(dir, filestorage.Options{
		Session: session.Options{IdleTimeout: 30 * time.Minute},
	})
	if err != nil {
		return nil, err
	}
	sessions, err := sessionmiddleware.New(c, st, sessionmiddleware.Options{})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		n, _ := session.Value[int](s, "visits")
		s.Set("visits", n+1)
		fmt.Fprintf(w, "visits: %d\n", n+1)
	})
	// Refuse cross-origin POST, PUT, DELETE… (CSRF) before any session work.
	return http.NewCrossOriginProtection().Handler(sessions(mux)), nil
}
