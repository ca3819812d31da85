// Package dockerfile reads the `go build` command out of the project's
// Dockerfile, so that the image test and the benchmark build the binary
// exactly as the image does (same environment, same flags) without Docker,
// and sizes the image's layer.
package dockerfile

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Build is the Dockerfile's go build command, ready to run on this machine.
type Build struct {
	// Env holds the NAME=value assignments that precede `go build` on the
	// RUN line (CGO_ENABLED=0 GOOS=… GOARCH=…), expanded.
	Env []string
	// Args are the arguments after `go`, expanded, with the -o output
	// replaced by the caller's path.
	Args []string
	// Line is the RUN instruction as written, for messages.
	Line string
}

// Has reports whether Args contains the argument a.
func (b Build) Has(a string) bool {
	for _, x := range b.Args {
		if x == a {
			return true
		}
	}
	return false
}

// EnvValue returns the value of the assignment NAME=value in Env.
func (b Build) EnvValue(name string) (string, bool) {
	for _, kv := range b.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// Flag returns the value of a flag given as -name=value or -name value.
func (b Build) Flag(name string) (string, bool) {
	for i, a := range b.Args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
		if a == name && i+1 < len(b.Args) {
			return b.Args[i+1], true
		}
	}
	return "", false
}

// Read reads the Dockerfile at the repository root (root/Dockerfile) and
// returns its go build command for goos/goarch (the build's TARGETOS and
// TARGETARCH), with VERSION=version, writing the binary to out.
func Read(root, goos, goarch, version, out string) (Build, error) {
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		return Build{}, err
	}
	return Parse(string(data), map[string]string{"TARGETOS": goos, "TARGETARCH": goarch, "VERSION": version}, out)
}

// Parse finds the RUN instruction that runs `go build` in a Dockerfile and
// returns that command, with the build arguments in vars expanded and the
// output path (-o) replaced by out. An unknown variable, a second go build,
// or shell syntax this reader does not follow (pipes, &&, ;) is an error:
// the Dockerfile must keep its build command plain enough to be reproduced.
func Parse(dockerfile string, vars map[string]string, out string) (Build, error) {
	var found []string
	for _, ins := range instructions(dockerfile) {
		fields := strings.Fields(ins)
		if len(fields) == 0 || !strings.EqualFold(fields[0], "RUN") || !strings.Contains(ins, "go build") {
			continue
		}
		found = append(found, ins)
	}
	switch len(found) {
	case 0:
		return Build{}, fmt.Errorf("no RUN instruction of the Dockerfile runs go build")
	case 1:
	default:
		return Build{}, fmt.Errorf("%d RUN instructions of the Dockerfile run go build, want one", len(found))
	}
	line := found[0]
	words, err := split(strings.TrimSpace(line)[len("RUN"):], vars)
	if err != nil {
		return Build{}, fmt.Errorf("the Dockerfile's go build: %v in %q", err, line)
	}
	b := Build{Line: line}
	i := 0
	for i < len(words) && strings.HasPrefix(words[i], "--") { // RUN options: --mount=…
		i++
	}
	for ; i < len(words); i++ {
		w := words[i]
		if k, _, ok := strings.Cut(w, "="); ok && isName(k) {
			b.Env = append(b.Env, w)
			continue
		}
		break
	}
	if i+1 >= len(words) || words[i] != "go" || words[i+1] != "build" {
		return Build{}, fmt.Errorf("the Dockerfile's go build: expected NAME=value… go build …, got %q", line)
	}
	b.Args = append([]string(nil), words[i+1:]...)
	replaced := false
	for j := 0; j < len(b.Args); j++ {
		if b.Args[j] == "-o" && j+1 < len(b.Args) {
			b.Args[j+1] = out
			replaced = true
		} else if strings.HasPrefix(b.Args[j], "-o=") {
			b.Args[j] = "-o=" + out
			replaced = true
		}
	}
	if !replaced {
		return Build{}, fmt.Errorf("the Dockerfile's go build has no -o: %q", line)
	}
	return b, nil
}

// instructions joins continuation lines and drops comments.
func instructions(dockerfile string) []string {
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(dockerfile, "\n") {
		t := strings.TrimSpace(l)
		if cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\"))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(t)
		out = append(out, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// split splits a shell command into words: blanks separate words, single
// quotes keep everything, double quotes keep blanks and expand variables,
// $NAME and ${NAME} expand from vars.
func split(s string, vars map[string]string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	expand := func(i int) (int, error) { // s[i] == '$'
		var name string
		j := i + 1
		if j < len(s) && s[j] == '{' {
			end := strings.IndexByte(s[j:], '}')
			if end < 0 {
				return 0, fmt.Errorf("unclosed ${")
			}
			name = s[j+1 : j+end]
			j += end + 1
		} else {
			k := j
			for k < len(s) && (s[k] == '_' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= 'a' && s[k] <= 'z' || k > j && s[k] >= '0' && s[k] <= '9') {
				k++
			}
			name = s[j:k]
			j = k
		}
		v, ok := vars[name]
		if !ok {
			return 0, fmt.Errorf("unknown variable %q", name)
		}
		w.WriteString(v)
		return j, nil
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
			i++
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unclosed single quote")
			}
			w.WriteString(s[i+1 : i+1+end])
			inWord = true
			i += end + 2
		case c == '"':
			inWord = true
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unclosed double quote")
				}
				if s[i] == '"' {
					i++
					break
				}
				if s[i] == '$' {
					j, err := expand(i)
					if err != nil {
						return nil, err
					}
					i = j
					continue
				}
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				w.WriteByte(s[i])
				i++
			}
		case c == '$':
			j, err := expand(i)
			if err != nil {
				return nil, err
			}
			inWord = true
			i = j
		case strings.IndexByte("|&;<>()`", c) >= 0:
			return nil, fmt.Errorf("shell syntax %q is not followed", string(c))
		case c == '\\' && i+1 < len(s):
			w.WriteByte(s[i+1])
			inWord = true
			i += 2
		default:
			w.WriteByte(c)
			inWord = true
			i++
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// LayerSize is the size of the image's only layer, a tar archive holding
// the one file name (the binary), gzipped at the default level as image
// layers are.
func LayerSize(name string, data []byte) (int, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		return 0, err
	}
	if _, err := tw.Write(data); err != nil {
		return 0, err
	}
	if err := tw.Close(); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return buf.Len(), nil
}
