module github.com/sessionkit/sessionkit/examples

go 1.25

require (
	github.com/sessionkit/sessionkit/cookie v0.0.0
	github.com/sessionkit/sessionkit/router v0.0.0
	github.com/sessionkit/sessionkit/session v0.0.0
	github.com/sessionkit/sessionkit/session-middleware v0.0.0
)

replace (
	github.com/sessionkit/sessionkit/cookie => ../cookie
	github.com/sessionkit/sessionkit/router => ../router
	github.com/sessionkit/sessionkit/session => ../session
	github.com/sessionkit/sessionkit/session-middleware => ../session-middleware
)
