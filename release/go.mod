module github.com/sessionkit/sessionkit/release

go 1.23
