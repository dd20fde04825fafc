module github.com/sessionkit/sessionkit/storage-memcache

go 1.23

require (
	github.com/bradfitz/gomemcache v0.0.0-20260422231931-4d751bb6e37c
	github.com/sessionkit/sessionkit/session v0.0.0
)

replace github.com/sessionkit/sessionkit/session => ../session
