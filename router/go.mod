module github.com/sessionkit/sessionkit/router

go 1.23
