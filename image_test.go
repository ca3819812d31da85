//go:build unix

package main

import (
	"bytes"
	"crypto/x509"
	"debug/elf"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/bench/dockerfile"
	"github.com/jira-cicd/jira-cicd/internal/app"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// The image is the binary alone on scratch. These tests build the binary the
// way the Dockerfile does (its go build command, read from the Dockerfile)
// and check what the image relies on: static, small, and working in a root
// that holds nothing else — no libc, no CA bundle, no shell, no /tmp.

const (
	maxBinary     = 10_000_000 // bytes, stripped
	maxLayer      = 4_000_000  // bytes, the image's one layer, gzipped
	imageVersion  = "image-test"
	imageBinary   = "jira-cicd"
	imageSecret   = "image-S3CRET-4b1d"
	imageClientID = "image-client"
)

// buildAsImage builds the binary with the Dockerfile's go build command for
// this machine's platform and returns its path.
func buildAsImage(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH: cannot build the binary")
	}
	out := filepath.Join(t.TempDir(), imageBinary)
	b, err := dockerfile.Read(".", runtime.GOOS, runtime.GOARCH, imageVersion, out)
	if err != nil {
		t.Fatal(err)
	}
	// What makes the image's binary static and small must stay in the
	// Dockerfile.
	if v, _ := b.EnvValue("CGO_ENABLED"); v != "0" {
		t.Fatalf("the Dockerfile builds with CGO_ENABLED=%q, want 0 (a static binary): %s", v, b.Line)
	}
	ld, _ := b.Flag("-ldflags")
	if !b.Has("-trimpath") || !slices.Contains(strings.Fields(ld), "-s") || !slices.Contains(strings.Fields(ld), "-w") {
		t.Fatalf("the Dockerfile's go build lacks -trimpath or -ldflags \"-s -w\": %s", b.Line)
	}
	// The build context has no .git (.dockerignore), so no VCS stamp.
	args := append([]string{b.Args[0], "-buildvcs=false"}, b.Args[1:]...)
	cmd := exec.Command(goBin, args...)
	cmd.Env = append(os.Environ(), b.Env...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return out
}

func TestImageBinary(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the image is linux/amd64 and linux/arm64; on %s the binary is not the image's (not ELF)", runtime.GOOS)
	}
	bin := buildAsImage(t)

	t.Run("static", func(t *testing.T) {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("the binary has a PT_INTERP program header: it needs a dynamic loader, which scratch does not have")
			}
		}
		libs, err := f.ImportedLibraries()
		if err != nil {
			t.Fatal(err)
		}
		if len(libs) > 0 {
			t.Errorf("the binary needs shared libraries (DT_NEEDED): %v", libs)
		}
		if s := f.Section(".symtab"); s != nil {
			t.Errorf("the binary has a symbol table: not stripped (-ldflags \"-s -w\")")
		}
	})

	t.Run("size", func(t *testing.T) {
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		layer, err := dockerfile.LayerSize(imageBinary, data)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("binary %.2f MB, image layer (tar+gzip) %.2f MB", float64(len(data))/1e6, float64(layer)/1e6)
		if len(data) > maxBinary {
			t.Errorf("the binary is %d bytes, over %d", len(data), maxBinary)
		}
		if layer > maxLayer {
			t.Errorf("the image layer is %d bytes gzipped, over %d", layer, maxLayer)
		}
	})

	t.Run("empty root", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("running the binary in an empty root needs chroot, so root (CI runs as root)")
		}
		root := t.TempDir()
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, imageBinary), data, 0o755); err != nil {
			t.Fatal(err)
		}
		testEmptyRoot(t, root)
	})
}

type rootRun struct {
	code           int
	stdout, stderr string
}

// inRoot runs /jira-cicd chrooted into root, with exactly env.
func inRoot(t *testing.T, root string, env []string, args ...string) rootRun {
	t.Helper()
	cmd := exec.Command("/"+imageBinary, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
	cmd.Dir = "/"
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := rootRun{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run in the empty root: %v", err)
	}
	if strings.Contains(r.stdout+r.stderr, imageSecret) {
		t.Errorf("the client secret leaked:\n%s%s", r.stdout, r.stderr)
	}
	return r
}

func testEmptyRoot(t *testing.T, root string) {
	entries, err := os.ReadDir(root)
	if err != nil || len(entries) != 1 {
		t.Fatalf("the root must hold the binary alone: %v %v", entries, err)
	}
	record := []string{"--issue-keys", "ABC-1", "--pipeline-id", "p", "--build-number", "1", "--url", "https://ci.example.com/1"}

	t.Run("version", func(t *testing.T) {
		r := inRoot(t, root, nil, "--version")
		if r.code != 0 || r.stdout != "jira-cicd "+imageVersion+"\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("dry run", func(t *testing.T) {
		r := inRoot(t, root, nil, append([]string{"--dry-run"}, record...)...)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		var body struct {
			Builds []struct {
				PipelineID  string   `json:"pipelineId"`
				BuildNumber int64    `json:"buildNumber"`
				URL         string   `json:"url"`
				IssueKeys   []string `json:"issueKeys"`
			} `json:"builds"`
			ProviderMetadata struct {
				Product string `json:"product"`
			} `json:"providerMetadata"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &body); err != nil {
			t.Fatalf("stdout is not the record's JSON: %v\n%s", err, r.stdout)
		}
		if len(body.Builds) != 1 {
			t.Fatalf("%d builds: %s", len(body.Builds), r.stdout)
		}
		b := body.Builds[0]
		if b.PipelineID != "p" || b.BuildNumber != 1 || b.URL != "https://ci.example.com/1" ||
			!slices.Equal(b.IssueKeys, []string{"ABC-1"}) || body.ProviderMetadata.Product != "jira-cicd "+imageVersion {
			t.Errorf("record %+v, product %q", b, body.ProviderMetadata.Product)
		}
		if err := fakejira.ValidateBody("builds", []byte(r.stdout)); err != nil {
			t.Errorf("the dry run's body is not a valid Jira body: %v", err)
		}
	})

	// The network part, against the fake Jira on loopback (a chroot keeps
	// the network): the minimum requests, nothing else needed from the root.
	send := func(t *testing.T, srv *fakejira.Server, cloudID bool) rootRun {
		env := []string{"JIRA_CLIENT_ID=" + imageClientID, "JIRA_CLIENT_SECRET=" + imageSecret,
			"JIRA_SITE=" + srv.URL, "JIRA_API_URL=" + srv.URL, "JIRA_TIMEOUT=20s"}
		if cloudID {
			env = append(env, "JIRA_CLOUD_ID="+srv.CloudID)
		}
		return inRoot(t, root, env, record...)
	}
	for _, tc := range []struct {
		name    string
		cloudID bool
		want    []fakejira.Endpoint
	}{
		{"send with cloud_id", true, []fakejira.Endpoint{fakejira.EndpointToken, fakejira.EndpointBuilds}},
		{"send without cloud_id", false, []fakejira.Endpoint{fakejira.EndpointTenantInfo, fakejira.EndpointToken, fakejira.EndpointBuilds}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakejira.New(t, fakejira.WithClientCredentials(imageClientID, imageSecret))
			r := send(t, srv, tc.cloudID)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			var got []fakejira.Endpoint
			for _, q := range srv.Requests() {
				got = append(got, q.Endpoint)
			}
			// token and tenant_info go out at once: their order is free.
			sorted := slices.Clone(got)
			slices.Sort(sorted[:max(0, len(sorted)-1)])
			if !slices.Equal(sorted, tc.want) {
				t.Fatalf("requests %v, want exactly %v (the first two in any order)", got, tc.want)
			}
			if ids := srv.LastBuilds(); ids == nil {
				t.Fatalf("no build received")
			}
		})
	}

	t.Run("gated deployment: one token, one connection", func(t *testing.T) {
		srv := fakejira.New(t, fakejira.WithClientCredentials(imageClientID, imageSecret),
			fakejira.WithGating("awaiting", "awaiting", "allowed"))
		env := []string{"JIRA_CLIENT_ID=" + imageClientID, "JIRA_CLIENT_SECRET=" + imageSecret,
			"JIRA_API_URL=" + srv.URL, "JIRA_CLOUD_ID=" + srv.CloudID, "JIRA_TIMEOUT=20s",
			"JIRA_ENVIRONMENT=production", "JIRA_GATING=true", "JIRA_GATING_INTERVAL=1s", "JIRA_GATING_TIMEOUT=1m"}
		r := inRoot(t, root, env, record...)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		var got []fakejira.Endpoint
		for _, q := range srv.Requests() {
			got = append(got, q.Endpoint)
		}
		want := []fakejira.Endpoint{fakejira.EndpointToken, fakejira.EndpointDeployments,
			fakejira.EndpointGating, fakejira.EndpointGating, fakejira.EndpointGating}
		if !slices.Equal(got, want) {
			t.Fatalf("requests %v, want exactly %v", got, want)
		}
		if n := srv.TokensIssued(); n != 1 {
			t.Errorf("%d tokens for a submission and 3 gating polls, want 1", n)
		}
		if n := srv.Connections(); n != 1 {
			t.Errorf("%d connections for %d requests to one host, want 1 (keep-alive)", n, len(got))
		}
	})

	t.Run("TLS is verified", func(t *testing.T) {
		// A server whose certificate no public root signed: the binary, with
		// no CA bundle around it, must refuse it rather than skip the check.
		var hit atomic.Bool
		ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Store(true) }))
		ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
		ts.StartTLS()
		defer ts.Close()
		env := []string{"JIRA_CLIENT_ID=" + imageClientID, "JIRA_CLIENT_SECRET=" + imageSecret,
			"JIRA_API_URL=" + ts.URL, "JIRA_CLOUD_ID=" + fakejira.DefaultCloudID, "JIRA_TIMEOUT=20s"}
		r := inRoot(t, root, env, record...)
		if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "x509") {
			t.Fatalf("exit %d, want 1 with a certificate error\n%s%s", r.code, r.stdout, r.stderr)
		}
		if hit.Load() {
			t.Errorf("the request reached a server whose certificate does not verify")
		}
	})
}

// Every base image is named with its registry (docker.io/library/golang, not
// golang): buildah and podman, as Debian configures them, have no default
// registry for short names and refuse to build the image otherwise. scratch
// is no image at all.
func TestDockerfileBaseImagesAreFullyQualified(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	froms := 0
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.EqualFold(f[0], "FROM") {
			continue
		}
		froms++
		image := f[1]
		for i := 1; i < len(f) && strings.HasPrefix(f[i], "--"); i++ { // FROM --platform=… image
			image = f[min(i+1, len(f)-1)]
		}
		if image == "scratch" {
			continue
		}
		host, _, ok := strings.Cut(image, "/")
		if !ok || (!strings.ContainsAny(host, ".:") && host != "localhost") {
			t.Errorf("Dockerfile: FROM %s is not fully qualified (registry/namespace/name:tag, such as docker.io/library/golang:1.26)", image)
		}
	}
	if froms < 2 {
		t.Errorf("Dockerfile: %d FROM lines, want the build stage and scratch", froms)
	}
}

var rootsChild = flag.String("roots-child", "", "run one of TestCompiledInRoots' subprocesses in this process: dry or send")

// The pinned chain: see testdata/tls/SOURCE.md.
var (
	chainFile = filepath.Join("testdata", "tls", "www.google.com-chain.pem")
	chainTime = time.Unix(1677615892, 0) // when the leaf was valid
)

func readChain(t *testing.T) (leaf *x509.Certificate, intermediates *x509.CertPool) {
	t.Helper()
	data, err := os.ReadFile(chainFile)
	if err != nil {
		t.Fatal(err)
	}
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	if len(certs) != 2 {
		t.Fatalf("%s: %d certificates, want leaf and intermediate", chainFile, len(certs))
	}
	intermediates = x509.NewCertPool()
	intermediates.AddCert(certs[1])
	return certs[0], intermediates
}

// TestCompiledInRoots: with no CA certificates on the system (as in the
// scratch image), TLS verifies against the roots compiled into the binary,
// and a real public chain verifies against them; a run that needs no network
// does not pay for parsing them. Each check runs in a subprocess (this test
// binary, whose SSL_CERT_FILE and SSL_CERT_DIR point at nothing, so that Go
// finds no system roots) that runs the step (app.Run) and then verifies the
// chain against the system pool, as crypto/tls does by default.
func TestCompiledInRoots(t *testing.T) {
	leaf, intermediates := readChain(t)
	opts := x509.VerifyOptions{DNSName: "www.google.com", Intermediates: intermediates, CurrentTime: chainTime}
	if *rootsChild != "" {
		rootsChildChecks(t, *rootsChild, leaf, opts)
		return
	}

	// Control: the chain needs a root; it does not verify on its own.
	empty := opts
	empty.Roots = x509.NewCertPool()
	var unknown x509.UnknownAuthorityError
	if _, err := leaf.Verify(empty); !errors.As(err, &unknown) {
		t.Fatalf("with no roots, want an unknown-authority error, got %v", err)
	}

	nothing := filepath.Join(t.TempDir(), "none")
	child := func(mode string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCompiledInRoots$", "-test.count=1", "-roots-child="+mode)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "SSL_CERT_") && !strings.HasPrefix(kv, "GODEBUG=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+nothing+".pem", "SSL_CERT_DIR="+nothing)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("subprocess (%s) with no system roots: %v\n%s", mode, err, out)
		}
		return string(out)
	}
	if out := child("https"); !strings.Contains(out, "after sending: verified to CN=GTS Root R1,O=Google Trust Services LLC,C=US") {
		t.Errorf("after a run that sends over https, the chain did not verify to GTS Root R1 with the compiled-in roots:\n%s", out)
	}
	if out := child("send"); !strings.Contains(out, "after sending over plain http: no roots") {
		t.Errorf("a run over plain http (a loopback fake) loaded CA roots it does not need:\n%s", out)
	}
	if out := child("dry"); !strings.Contains(out, "after a dry run: no roots") {
		t.Errorf("a dry run loaded CA roots it does not need:\n%s", out)
	}
}

// rootsChildChecks runs the step once (a dry run, or a run that sends a
// build to the fake Jira over loopback), then verifies the chain.
func rootsChildChecks(t *testing.T, mode string, leaf *x509.Certificate, opts x509.VerifyOptions) {
	args := []string{"--issue-keys", "ABC-1", "--pipeline-id", "p", "--build-number", "1", "--url", "https://ci.example.com/1"}
	var environ []string
	switch mode {
	case "dry":
		args = append(args, "--dry-run")
	case "https":
		// Any https server: its certificate is not trusted (that is not
		// what is tested), but the roots must be in place before the
		// handshake. fail_on_error=false: the failed send exits 0.
		srv := httptest.NewTLSServer(http.NotFoundHandler())
		defer srv.Close()
		environ = []string{"JIRA_CLIENT_ID=" + imageClientID, "JIRA_CLIENT_SECRET=" + imageSecret,
			"JIRA_API_URL=" + srv.URL, "JIRA_CLOUD_ID=0b6c5d1e-7f2a-4c3b-9d8e-1a2b3c4d5e6f", "JIRA_FAIL_ON_ERROR=false"}
	case "send":
		srv := fakejira.New(t, fakejira.WithClientCredentials(imageClientID, imageSecret))
		environ = []string{"JIRA_CLIENT_ID=" + imageClientID, "JIRA_CLIENT_SECRET=" + imageSecret,
			"JIRA_API_URL=" + srv.URL, "JIRA_CLOUD_ID=" + srv.CloudID}
		defer func() {
			if n := srv.Count(fakejira.EndpointBuilds); n != 1 {
				t.Errorf("%d builds sent, want 1", n)
			}
		}()
	default:
		t.Fatalf("unknown -roots-child %q", mode)
	}
	var out bytes.Buffer
	code := app.Run(t.Context(), app.Env{Args: args, Environ: environ, WorkDir: t.TempDir(), Stdout: &out, Stderr: &out, Version: "test"})
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	chains, err := leaf.Verify(opts) // Roots nil: the system pool
	var unknown x509.UnknownAuthorityError
	switch {
	case mode == "dry" && errors.As(err, &unknown):
		fmt.Println("after a dry run: no roots")
	case mode == "dry":
		t.Fatalf("after a dry run, with no system roots, want no roots loaded (an unknown-authority error), got %v", err)
	case mode == "send" && errors.As(err, &unknown):
		fmt.Println("after sending over plain http: no roots")
	case mode == "send":
		t.Fatalf("after a run over plain http, with no system roots, want no roots loaded, got %v", err)
	case err != nil:
		t.Fatalf("the chain does not verify against the system pool: %v", err)
	default:
		fmt.Printf("after sending: verified to %s\n", chains[0][len(chains[0])-1].Subject)
	}
}
