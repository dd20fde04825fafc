package cookie

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// maxAttrSize is the longest attribute value a browser keeps (RFC 6265bis
// §5.6: longer Path or Domain attributes are ignored).
const maxAttrSize = 1024

// byteSet is a set of bytes: a character class that input is checked
// against, one lookup a byte.
type byteSet [256]bool

// byteSetOf returns the set of the bytes in chars.
func byteSetOf(chars string) (set byteSet) {
	for i := 0; i < len(chars); i++ {
		set[chars[i]] = true
	}
	return set
}

const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

var (
	// tokenChars are the RFC 9110 tchar, the only bytes allowed in a
	// cookie name.
	tokenChars = byteSetOf(alphanumeric + "!#$%&'*+-.^_`|~")
	// labelChars may appear in a host name's labels.
	labelChars = byteSetOf(alphanumeric + "-_")
	// base64Chars are the standard base64 alphabet, without the padding.
	base64Chars = byteSetOf(alphanumeric + "+/")
	// asciiSpace is ASCII whitespace as WHATWG Infra defines it, which
	// atob ignores.
	asciiSpace = byteSetOf(" \t\n\f\r")
)

func validName(name string) error {
	if name == "" {
		return errors.New("is empty")
	}
	if len(name) > MaxSize {
		return fmt.Errorf("is longer than %d bytes", MaxSize)
	}
	for i := 0; i < len(name); i++ {
		if !tokenChars[name[i]] {
			return fmt.Errorf("byte %q at %d is not an RFC 9110 token character", name[i], i)
		}
	}
	return nil
}

// validPath accepts an absolute path of printable ASCII without the
// separators that could end the attribute or split a header (';', ','),
// spaces or controls.
func validPath(p string) error {
	if p[0] != '/' {
		return errors.New("must start with '/'")
	}
	if len(p) > maxAttrSize {
		return fmt.Errorf("is longer than %d bytes", maxAttrSize)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c >= 0x7f || c == ';' || c == ',' {
			return fmt.Errorf("byte %q at %d is not allowed in a cookie path", c, i)
		}
	}
	return nil
}

// validDomain accepts a host name (an optional leading dot, then labels of
// letters, digits, '-' and '_' separated by single dots) or an IP address.
// Ports, spaces, separators and empty labels are refused.
func validDomain(d string) error {
	if len(d) > 253+1 {
		return errors.New("is longer than 254 bytes")
	}
	if ip := net.ParseIP(d); ip != nil && !strings.Contains(d, ":") {
		return nil
	}
	d = strings.TrimPrefix(d, ".")
	if d == "" {
		return errors.New("has no host name")
	}
	for at := 0; ; {
		label, _, more := strings.Cut(d[at:], ".")
		if err := validLabel(label, at, more); err != nil {
			return err
		}
		if !more {
			return nil
		}
		at += len(label) + 1
	}
}

// validLabel checks one label of a host name, at offset at; dot reports
// whether a dot follows it (whether it is not the last label). Errors
// give offsets in the host name.
func validLabel(label string, at int, dot bool) error {
	if label == "" {
		if dot {
			return fmt.Errorf("empty label at %d", at)
		}
		return errors.New("ends with '.'")
	}
	for i := 0; i < len(label); i++ {
		switch c := label[i]; {
		case c == '-' && i == 0:
			return fmt.Errorf("label starts with '-' at %d", at)
		case !labelChars[c]:
			return fmt.Errorf("byte %q at %d is not allowed in a domain", c, at+i)
		case i == 63:
			return errors.New("has a label longer than 63 bytes")
		}
	}
	if end := len(label) - 1; label[end] == '-' {
		if dot {
			return fmt.Errorf("label ends with '-' at %d", at+end)
		}
		return errors.New("label ends with '-'")
	}
	return nil
}
