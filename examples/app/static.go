package main

import (
	"embed"
	"io/fs"
	"net/http"
)

// staticFiles are the page's stylesheet and icon.
//
//go:embed static
var staticFiles embed.FS

// staticHandler serves staticFiles under /static/, cacheable for an hour.
// It runs behind the session middleware like every other route but never
// asks for the session, so that an asset costs no storage round trip and
// carries no session header (sessions load on first use).
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded folder is there at build time
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
