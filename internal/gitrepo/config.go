package gitrepo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// gitConfig is the part of a git config file this package reads: every
// "section[.subsection].key = value" pair, every value of a key kept in
// order (get gives the last, as git does; first is for remote URLs, whose
// first one is the fetch URL). Section and key names are lower-cased (they are case-insensitive in git); subsections keep
// their case. include and includeIf are not followed: nothing this package
// reads (remote.origin.url, extensions.*, core.repositoryformatversion) is
// put in an included file by git or by the CI checkouts we know.
type gitConfig map[string][]string

func (c gitConfig) get(key string) string {
	if v := c[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

func (c gitConfig) first(key string) string {
	if v := c[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// maxConfigSize bounds the config read (a workspace file may be hostile).
const maxConfigSize = 1 << 20

// readConfig parses the config file at path; a missing file is empty.
func readConfig(path string, into gitConfig) error {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return err
	}
	if len(b) > maxConfigSize {
		return fmt.Errorf("%s: larger than %d bytes", path, maxConfigSize)
	}
	if err := parseConfig(string(b), into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

var errConfigSyntax = errors.New("bad config syntax")

// parseConfig reads git's config syntax: [section], [section "subsection"],
// the old [section.subsection], "key = value" and a bare "key" (true);
// values may be quoted, hold \" \\ \n \t \b escapes, continue on the next
// line after a trailing backslash, and end at a ; or # comment outside
// quotes.
func parseConfig(s string, into gitConfig) error {
	section := ""
	i := 0
	line := 1
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#' || c == ';':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return fmt.Errorf("%w at line %d", errConfigSyntax, line)
			}
			hdr := s[i+1 : i+end]
			i += end + 1
			name, sub, quoted := strings.Cut(hdr, " ")
			if quoted {
				sub = strings.TrimSpace(sub)
				if len(sub) < 2 || sub[0] != '"' || sub[len(sub)-1] != '"' {
					return fmt.Errorf("%w at line %d", errConfigSyntax, line)
				}
				sub = unescapeSubsection(sub[1 : len(sub)-1])
				section = strings.ToLower(name) + "." + sub
			} else {
				// [section] or the deprecated [section.subsection],
				// whose subsection is lower-cased.
				section = strings.ToLower(hdr)
			}
		default:
			if section == "" {
				return fmt.Errorf("%w at line %d: key outside a section", errConfigSyntax, line)
			}
			j := i
			for j < len(s) && (isAlnum(s[j]) || s[j] == '-') {
				j++
			}
			if j == i {
				return fmt.Errorf("%w at line %d", errConfigSyntax, line)
			}
			key := section + "." + strings.ToLower(s[i:j])
			i = j
			for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
				i++
			}
			if i >= len(s) || s[i] == '\n' || s[i] == '#' || s[i] == ';' {
				into[key] = append(into[key], "true")
				continue
			}
			if s[i] != '=' {
				return fmt.Errorf("%w at line %d", errConfigSyntax, line)
			}
			i++
			var val string
			var err error
			val, i, line, err = configValue(s, i, line)
			if err != nil {
				return err
			}
			into[key] = append(into[key], val)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func unescapeSubsection(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// configValue reads a value starting at s[i] and returns it with the index
// after it (at the end of its line).
func configValue(s string, i, line int) (string, int, int, error) {
	var b strings.Builder
	quoted := false
	pendingSpace := 0 // white space kept only if more value follows
	started := false
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\n':
			if quoted {
				return "", i, line, fmt.Errorf("%w at line %d: unterminated quote", errConfigSyntax, line)
			}
			v := b.String()
			return v[:len(v)-pendingSpace], i, line, nil
		case (c == ' ' || c == '\t') && !quoted:
			if started {
				pendingSpace++
				b.WriteByte(c)
			}
			i++
			continue
		case c == '\r' && !quoted:
			i++
			continue
		case (c == '#' || c == ';') && !quoted:
			for i < len(s) && s[i] != '\n' {
				i++
			}
			v := b.String()
			return v[:len(v)-pendingSpace], i, line, nil
		case c == '"':
			quoted = !quoted
			started = true
			pendingSpace = 0
			i++
			continue
		case c == '\\':
			if i+1 >= len(s) {
				return "", i, line, fmt.Errorf("%w at line %d: bad escape", errConfigSyntax, line)
			}
			i++
			switch s[i] {
			case '\n':
				line++ // a continuation line
			case '\r':
				if i+1 < len(s) && s[i+1] == '\n' {
					i++
					line++
				}
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case '"', '\\':
				b.WriteByte(s[i])
			default:
				return "", i, line, fmt.Errorf("%w at line %d: bad escape", errConfigSyntax, line)
			}
			started = true
			pendingSpace = 0
			i++
			continue
		}
		b.WriteByte(c)
		started = true
		pendingSpace = 0
		i++
	}
	if quoted {
		return "", i, line, fmt.Errorf("%w at line %d: unterminated quote", errConfigSyntax, line)
	}
	v := b.String()
	return v[:len(v)-pendingSpace], i, line, nil
}
