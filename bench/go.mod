module github.com/sessionkit/sessionkit/bench

go 1.23

require (
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/bradfitz/gomemcache v0.0.0-20260422231931-4d751bb6e37c
	github.com/gorilla/sessions v1.4.0
	github.com/sessionkit/sessionkit/cookie v0.0.0
	github.com/sessionkit/sessionkit/session v0.0.0
	github.com/sessionkit/sessionkit/session-middleware v0.0.0
	github.com/sessionkit/sessionkit/storage-memcache v0.0.0
)

require github.com/gorilla/securecookie v1.1.2 // indirect

replace (
	github.com/sessionkit/sessionkit/cookie => ../cookie
	github.com/sessionkit/sessionkit/session => ../session
	github.com/sessionkit/sessionkit/session-middleware => ../session-middleware
	github.com/sessionkit/sessionkit/storage-memcache => ../storage-memcache
)
