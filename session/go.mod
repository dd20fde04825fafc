module github.com/sessionkit/sessionkit/session

go 1.23
