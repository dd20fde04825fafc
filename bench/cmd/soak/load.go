package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// load is the steady traffic: users, each with its own cookie jar, one
// request at a time.
type load struct {
	url       string
	users     int
	relogin   int
	transport *http.Transport
	requests  atomic.Int64
	errors    atomic.Int64
	firstErr  atomic.Value
	stopping  atomic.Bool // no new request; those in flight finish
}

// stop ends the run: the users send no more requests, and run returns
// once those in flight have finished, so that the end breaks none.
func (l *load) stop() { l.stopping.Store(true) }

func newLoad(url string, users, relogin int) *load {
	return &load{url: url, users: users, relogin: relogin, transport: &http.Transport{
		MaxIdleConns: users, MaxIdleConnsPerHost: users,
	}}
}

// run drives the users until stop (or ctx is done: an interrupt).
func (l *load) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range l.users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.user(ctx)
		}()
	}
	wg.Wait()
	l.transport.CloseIdleConnections()
}

// user signs in, then loads the home page, signing out and in again every
// l.relogin requests. Every page must show the signed-in user.
func (l *load) user(ctx context.Context) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{
		Transport: l.transport, Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for n := 0; ctx.Err() == nil && !l.stopping.Load(); n++ {
		var err error
		switch {
		case n == 0:
			err = l.post(ctx, client, "/login")
		case l.relogin > 0 && n%l.relogin == 0:
			if err = l.post(ctx, client, "/logout"); err == nil {
				err = l.post(ctx, client, "/login")
			}
		default:
			err = l.home(ctx, client)
		}
		if ctx.Err() != nil {
			return // cut by the end of the run
		}
		if err != nil {
			l.errors.Add(1)
			l.firstErr.CompareAndSwap(nil, err.Error())
			n = -1 // sign in again
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func (l *load) post(ctx context.Context, client *http.Client, path string) error {
	status, _, err := l.do(ctx, client, http.MethodPost, path)
	if err == nil && status != http.StatusSeeOther {
		err = fmt.Errorf("POST %s: status %d", path, status)
	}
	return err
}

func (l *load) home(ctx context.Context, client *http.Client) error {
	status, body, err := l.do(ctx, client, http.MethodGet, "/")
	switch {
	case err != nil:
		return err
	case status != http.StatusOK:
		return fmt.Errorf("GET /: status %d", status)
	case !bytes.Contains(body, []byte("user=demo")):
		return fmt.Errorf("GET /: the session is not signed in: %q", strings.TrimSpace(string(body)))
	}
	return nil
}

func (l *load) do(ctx context.Context, client *http.Client, method, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, l.url+path, nil)
	if err != nil {
		return 0, nil, err
	}
	l.requests.Add(1)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, body, err
}
