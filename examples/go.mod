module github.com/sessionkit/sessionkit/examples

go 1.25

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/sessionkit/sessionkit/cookie v0.0.0
	github.com/sessionkit/sessionkit/router v0.0.0
	github.com/sessionkit/sessionkit/session v0.0.0
	github.com/sessionkit/sessionkit/session-middleware v0.0.0
)

require github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect

replace (
	github.com/sessionkit/sessionkit/cookie => ../cookie
	github.com/sessionkit/sessionkit/router => ../router
	github.com/sessionkit/sessionkit/session => ../session
	github.com/sessionkit/sessionkit/session-middleware => ../session-middleware
)
