package session

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// plainCodec is the ClientCodec that leaves the payload as it is: the
// internal tests' cookie storage without keys.
type plainCodec struct{}

func (plainCodec) Encode(payload []byte) (string, error) { return string(payload), nil }
func (plainCodec) Decode(value string) (string, error)   { return value, nil }

func newPlainClientStorage(t testing.TB, o ClientOptions) Storage {
	t.Helper()
	st, err := NewClientStorage(plainCodec{}, o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// refusingCodec opens nothing and encodes nothing: Read starts a new
// session, logged, and Save returns the codec's error.
type refusingCodec struct{ err error }

func (c refusingCodec) Encode([]byte) (string, error)  { return "", c.err }
func (c refusingCodec) Decode(string) (string, error)  { return "", c.err }
func (c refusingCodec) BindCookie(ci CookieInfo) error { return c.err }

func TestNewClientStorageRefuses(t *testing.T) {
	if st, err := NewClientStorage(nil, ClientOptions{}); err == nil || st != nil {
		t.Errorf("nil codec: %v, %v", st, err)
	}
	if st, err := NewClientStorage(plainCodec{}, ClientOptions{IdleTimeout: -1}); err == nil || st != nil {
		t.Errorf("negative IdleTimeout: %v, %v", st, err)
	}
}

func TestClientStorageCodecErrors(t *testing.T) {
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	errNo := errors.New("no")
	st, err := NewClientStorage(refusingCodec{errNo}, ClientOptions{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Read(context.Background(), "whatever")
	if err != nil || s.State().Dirty || !strings.Contains(buf.String(), "does not open") {
		t.Fatalf("Read = %v, %v; log %q", s, err, buf.String())
	}
	s.Set("a", 1)
	if _, set, err := st.Save(context.Background(), s); !errors.Is(err, errNo) || set {
		t.Errorf("Save = %v, %v; want the codec's error", set, err)
	}
	// A codec that binds cookies makes the storage a CookieBinder that
	// passes the call on; one that does not, does not.
	if b, ok := st.(CookieBinder); !ok || !errors.Is(b.BindCookie(CookieInfo{}), errNo) {
		t.Errorf("binding codec: CookieBinder %v", ok)
	}
	if _, ok := newPlainClientStorage(t, ClientOptions{}).(CookieBinder); ok {
		t.Error("a storage over a codec that does not bind is a CookieBinder")
	}
}
