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

// isTokenChar reports whether c is an RFC 9110 tchar, the only bytes allowed
// in a cookie name.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func validName(name string) error {
	if name == "" {
		return errors.New("is empty")
	}
	if len(name) > MaxSize {
		return fmt.Errorf("is longer than %d bytes", MaxSize)
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
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
	label := 0
	for i := 0; i < len(d); i++ {
		c := d[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_':
			label++
		case c == '-':
			if label == 0 {
				return fmt.Errorf("label starts with '-' at %d", i)
			}
			label++
		case c == '.':
			if label == 0 {
				return fmt.Errorf("empty label at %d", i)
			}
			if d[i-1] == '-' {
				return fmt.Errorf("label ends with '-' at %d", i-1)
			}
			label = 0
			continue
		default:
			return fmt.Errorf("byte %q at %d is not allowed in a domain", c, i)
		}
		if label > 63 {
			return errors.New("has a label longer than 63 bytes")
		}
	}
	if label == 0 {
		return errors.New("ends with '.'")
	}
	if d[len(d)-1] == '-' {
		return errors.New("label ends with '-'")
	}
	return nil
}
