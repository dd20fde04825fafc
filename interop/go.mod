module github.com/sessionkit/sessionkit/interop

go 1.23

require (
	github.com/sessionkit/sessionkit/cookie v0.0.0
	github.com/sessionkit/sessionkit/session v0.0.0
)

replace (
	github.com/sessionkit/sessionkit/cookie => ../cookie
	github.com/sessionkit/sessionkit/session => ../session
)
