package redact

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// Every way a server or a report may echo the secret is covered by a form.
func TestFormsCoverEveryEcho(t *testing.T) {
	for _, secret := range []string{"SEC+ret/with=chars&<x>", "plainsecret", "ab/c", "ü-ß+€"} {
		forms := Forms(secret)
		covered := func(text string) bool {
			for _, f := range forms {
				if strings.Contains(text, f) {
					return true
				}
			}
			return false
		}
		j, _ := json.Marshal(secret)
		echoes := map[string]string{
			"raw":           "x " + secret + " y",
			"query":         "client_secret=" + url.QueryEscape(secret) + "&a=b",
			"query, lower":  "client_secret=" + lowerEscapes(url.QueryEscape(secret)),
			"path":          "/p/" + url.PathEscape(secret),
			"json":          `{"s":` + string(j) + `}`,
			"json, slashes": `{"s":` + strings.ReplaceAll(string(j), "/", `\/`) + `}`,
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			echoes["base64 "+enc.EncodeToString([]byte("x"))] = enc.EncodeToString([]byte(secret))
			if len(secret) < 12 {
				continue // too short for a fragment of MinFragment characters at every alignment
			}
			for _, prefix := range []string{"id:", "ab:", "a:"} {
				echoes["base64 inside, after "+prefix] = "Basic " + enc.EncodeToString([]byte(prefix+secret+"!tail"))
			}
		}
		for name, text := range echoes {
			if name == "query, lower" && !strings.Contains(url.QueryEscape(secret), "%") {
				continue
			}
			if !covered(text) {
				t.Errorf("%q: the %s echo %q holds no form of %v", secret, name, text, forms)
			}
		}
		for i := 1; i < len(forms); i++ {
			if len(forms[i]) > len(forms[i-1]) || forms[i] == forms[i-1] {
				t.Errorf("forms not longest first without duplicates: %q", forms)
			}
		}
	}
	if Forms("") != nil {
		t.Error("an empty secret has forms")
	}
}

// lowerEscapes writes the hex digits of each %XX escape in lower case, the
// letters of the text as they are.
func lowerEscapes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == '%' && i+2 < len(s) {
			b.WriteString(strings.ToLower(s[i+1 : i+3]))
			i += 2
		}
	}
	return b.String()
}
