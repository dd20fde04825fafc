package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// WriteProxy writes a module proxy in the layout GOPROXY=file://dir serves
// (path/@v/list, version.info, version.mod, version.zip) for every tag of the
// form folder/version whose folder holds a go.mod at that tag. It returns
// "path@version" for each module version written.
func WriteProxy(root, dir string) ([]string, error) {
	out, err := git(root, "tag", "--list", "*/v*")
	if err != nil {
		return nil, err
	}
	var written []string
	lists := map[string][]string{}
	for _, tag := range strings.Fields(out) {
		modDir, version := path.Split(tag)
		modDir = strings.TrimSuffix(modDir, "/")
		if strings.Contains(modDir, "/") || !versionRE.MatchString(version) {
			continue
		}
		gomod, err := git(root, "show", tag+":"+modDir+"/go.mod")
		if err != nil {
			continue // a tag of something that is not a module
		}
		m, err := parseGoMod([]byte(gomod))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tag, err)
		}
		zipData, err := moduleZip(root, tag, modDir, m.Path+"@"+version)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tag, err)
		}
		when, err := git(root, "log", "-1", "--format=%cI", tag)
		if err != nil {
			return nil, err
		}
		info, _ := json.Marshal(struct{ Version, Time string }{version, when})
		base := filepath.Join(dir, escapePath(m.Path), "@v")
		if err := os.MkdirAll(base, 0o755); err != nil {
			return nil, err
		}
		for name, data := range map[string][]byte{
			version + ".info": info,
			version + ".mod":  []byte(gomod + "\n"),
			version + ".zip":  zipData,
		} {
			if err := os.WriteFile(filepath.Join(base, name), data, 0o644); err != nil {
				return nil, err
			}
		}
		lists[base] = append(lists[base], version)
		written = append(written, m.Path+"@"+version)
	}
	for base, versions := range lists {
		sort.Strings(versions)
		if err := os.WriteFile(filepath.Join(base, "list"), []byte(strings.Join(versions, "\n")+"\n"), 0o644); err != nil {
			return nil, err
		}
	}
	if len(written) == 0 {
		return nil, fmt.Errorf("no module tags (folder/vX.Y.Z) in %s", root)
	}
	sort.Strings(written)
	return written, nil
}

// moduleZip builds the module zip the go command expects: every file of the
// module's folder at the tag under "path@version/", leaving out folders that
// are modules of their own and the module cache's excluded names.
func moduleZip(root, tag, modDir, prefix string) ([]byte, error) {
	cmd := exec.Command("git", "archive", "--format=tar", tag, modDir)
	cmd.Dir = root
	tarData, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git archive: %w", err)
	}
	type file struct {
		name string
		data []byte
	}
	var files []file
	nested := map[string]bool{} // folders below the module with a go.mod
	tr := tar.NewReader(bytes.NewReader(tarData))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue // folders are implied; symlinks are not allowed in module zips
		}
		rel := strings.TrimPrefix(h.Name, modDir+"/")
		if path.Base(rel) == "go.mod" && rel != "go.mod" {
			nested[path.Dir(rel)] = true
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		files = append(files, file{rel, data})
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		if inNested(f.name, nested) || excluded(f.name) {
			continue
		}
		w, err := zw.Create(prefix + "/" + f.name)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func inNested(name string, nested map[string]bool) bool {
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		if nested[d] {
			return true
		}
	}
	return false
}

// excluded mirrors what the go command leaves out of a module zip: version
// control folders and a vendor folder's packages.
func excluded(name string) bool {
	for _, part := range strings.Split(name, "/") {
		switch part {
		case ".git", ".hg", ".svn", ".bzr":
			return true
		}
	}
	return strings.HasPrefix(name, "vendor/") && name != "vendor/modules.txt"
}

// escapePath is the module cache's case encoding: an upper-case letter
// becomes '!' and its lower case.
func escapePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
