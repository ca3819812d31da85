package jira

import (
	"crypto/x509"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

var bundledRoots sync.Once

// UseBundledRoots makes the CA roots compiled into the binary (Mozilla's, from
// golang.org/x/crypto/x509roots/fallback/bundle) the roots every TLS
// connection verifies against when the system has none, as in the scratch
// image; a system that has roots keeps its own. It is what importing
// golang.org/x/crypto/x509roots/fallback does, done when the step first
// needs the network instead of in an init function: parsing the bundle takes
// over a millisecond and half a megabyte at every start, which --version,
// --help, a dry run or a run with no issue keys would pay for nothing. The
// transport calls it before its first https request (a run over plain http
// to a loopback fake never parses it: 1.1 ms and 0.9 MB of the benchmark's
// run, bench/run.sh); later calls do nothing.
func UseBundledRoots() {
	bundledRoots.Do(func() {
		// A system with roots keeps them, and the bundle is not parsed:
		// the handshake loads the system pool anyway (Go caches it), and
		// SetFallbackRoots would ignore the bundle.
		if sys, err := x509.SystemCertPool(); err == nil && !sys.Equal(x509.NewCertPool()) {
			return
		}
		p := x509.NewCertPool()
		for c := range bundle.Roots() {
			cert, err := x509.ParseCertificate(c.Certificate)
			if err != nil {
				panic("jira: a compiled-in CA root does not parse: " + err.Error())
			}
			if c.Constraint == nil {
				p.AddCert(cert)
			} else {
				p.AddCertWithConstraint(cert, c.Constraint)
			}
		}
		defer func() {
			// Someone imported x509roots/fallback after all: its roots are set.
			if v := recover(); v != nil && !strings.Contains(fmt.Sprint(v), "already been called") {
				panic(v)
			}
		}()
		x509.SetFallbackRoots(p)
	})
}
