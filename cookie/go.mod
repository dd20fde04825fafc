module github.com/sessionkit/sessionkit/cookie

go 1.23
