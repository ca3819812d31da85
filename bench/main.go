//go:build unix

// Command bench measures jira-cicd on this machine against the plain tools
// doing the same work, side by side, and checks the project's targets:
//
//   - end to end: the real binary, built as the Dockerfile builds it, sends a
//     build to a local fake Jira (token, tenant_info, bulk), against the
//     floor (bench/floor: the same three requests with the same body, with
//     net/http and nothing else, built the same way): wall time ≤ 1.10× the
//     floor's and peak RSS ≤ 1.15× the floor's (medians of at least 15 runs
//     each); and against curl making the same requests: wall time ≤ 1.5×
//     curl's, peak RSS ≤ 20 MB;
//   - issue keys of a 10,000-commit range: jira-cicd's commits_since path
//     against `git log --format=%B since..HEAD | grep -oE …` on the same
//     repository: ≤ 3× git+grep;
//   - the binary as the Dockerfile builds it: ≤ 10 MB stripped, ≤ 4 MB as a
//     gzipped image layer.
//
// Times are medians over -runs runs of each side, interleaved. It prints
// PASS or FAIL per target and exits 1 when one is missed. Run it from the
// repository root with bench/run.sh, which installs curl and git if needed.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jira-cicd/jira-cicd/bench/dockerfile"
	"github.com/jira-cicd/jira-cicd/internal/gitrepo/gittest"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// Targets.
const (
	maxFloorWallRatio = 1.10 // jira-cicd / floor, median wall time
	maxFloorRSSRatio  = 1.15 // jira-cicd / floor, median peak RSS
	minJudgedRuns     = 15   // fewer runs print the floor ratios without judging them
	maxEndToEndRatio  = 1.5
	maxRSS            = 20_000_000 // bytes
	maxRangeRatio     = 3.0
	maxBinary         = 10_000_000 // bytes
	maxLayer          = 4_000_000  // bytes
)

const (
	clientID = "bench-client"
	secret   = "bench-secret"
	cloudID  = "7f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b"
)

func main() {
	runs := flag.Int("runs", 21, "timed runs of each side (the floor ratios are judged from 15)")
	commits := flag.Int("commits", 10000, "commits in the range")
	keep := flag.Bool("keep", false, "keep the work directory (binaries, repositories)")
	flag.Parse()
	if err := run(*runs, *commits, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

var failed bool

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	failed = true
	return "FAIL"
}

func run(runs, commits int, keep bool) error {
	if _, err := os.Stat("Dockerfile"); err != nil {
		return fmt.Errorf("run from the repository root (bench/run.sh does): %v", err)
	}
	for _, tool := range []string{"go", "curl", "git", "sh", "grep", timeBin} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not on PATH (bench/run.sh installs curl, git and GNU time)", tool)
		}
	}
	work, err := os.MkdirTemp("", "jira-cicd-bench-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("work directory:", work)
	} else {
		defer os.RemoveAll(work)
	}

	bin := filepath.Join(work, "jira-cicd")
	rk := filepath.Join(work, "rangekeys")
	floor := filepath.Join(work, "floor")
	build, err := buildLikeImage(".", bin)
	if err != nil {
		return err
	}
	if _, err := buildLikeImage("./bench/rangekeys", rk); err != nil {
		return err
	}
	if _, err := buildLikeImage("./bench/floor", floor); err != nil {
		return err
	}

	fmt.Printf("jira-cicd benchmark: %s/%s, %d CPUs, %s; %s; %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(),
		runtime.Version(), firstLine("curl", "--version"), firstLine("git", "--version"))
	shown := slices.Clone(build.Args)
	for i, a := range shown {
		if strings.ContainsAny(a, " \t") {
			shown[i] = strconv.Quote(a)
		}
	}
	fmt.Printf("binary built as the Dockerfile builds it: %s go %s\n", strings.Join(build.Env, " "), strings.Join(shown, " "))
	fmt.Printf("medians of %d runs of each side, interleaved\n\n", runs)

	if err := endToEnd(work, bin, floor, runs); err != nil {
		return fmt.Errorf("end to end: %w", err)
	}
	if err := rangeScan(work, bin, rk, runs, commits); err != nil {
		return fmt.Errorf("range: %w", err)
	}
	if err := sizes(bin); err != nil {
		return fmt.Errorf("size: %w", err)
	}
	if failed {
		fmt.Println("\nFAIL: at least one target missed")
	} else {
		fmt.Println("\nPASS: every target met")
	}
	return nil
}

// buildLikeImage builds pkg with the Dockerfile's go build command (read from
// the Dockerfile) for this machine, into out.
func buildLikeImage(pkg, out string) (dockerfile.Build, error) {
	b, err := dockerfile.Read(".", runtime.GOOS, runtime.GOARCH, "bench", out)
	if err != nil {
		return b, err
	}
	args := slices.Clone(b.Args)
	if args[len(args)-1] != "." {
		return b, fmt.Errorf("the Dockerfile's go build does not end with the package \".\": %s", b.Line)
	}
	args[len(args)-1] = pkg
	// The image's build context has no .git (.dockerignore): no VCS stamp.
	args = append([]string{args[0], "-buildvcs=false"}, args[1:]...)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), b.Env...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return b, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return b, nil
}

func firstLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return name + " (version unknown)"
	}
	l, _, _ := strings.Cut(string(out), "\n")
	f := strings.Fields(l)
	if len(f) >= 3 && f[1] == "version" {
		return f[0] + " " + f[2]
	}
	if len(f) >= 2 {
		return f[0] + " " + f[1]
	}
	return l
}

// sample is one measured run: its wall time, or its peak resident set (the
// largest process's, for several). A run measures one or the other: the
// peak RSS comes from GNU time wrapped around the command, which would add
// its own start to the wall time.
type sample struct {
	wall time.Duration
	rss  int64 // bytes
}

// timeBin reports the peak RSS of a command (%M). Go's own wait4 rusage
// cannot: Go starts children with vfork semantics (CLONE_VM), and Linux
// counts the parent's resident set, at exec, in the child's maxrss.
const timeBin = "/usr/bin/time"

// proc is one command to run, measured for wall time or, with rss, wrapped
// in GNU time for its peak RSS.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	rssFile        string
}

var rssFiles int

func newProc(rss bool, dir string, env []string, name string, args ...string) *proc {
	p := &proc{}
	if rss {
		rssFiles++
		p.rssFile = filepath.Join(os.TempDir(), fmt.Sprintf("jira-cicd-bench-rss-%d-%d", os.Getpid(), rssFiles))
		args = append([]string{"-f", "%M", "-o", p.rssFile, name}, args...)
		name = timeBin
	}
	p.cmd = exec.Command(name, args...)
	p.cmd.Dir = dir
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	return p
}

func (p *proc) err(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %v\n%s%s", strings.Join(p.cmd.Args, " "), err, p.stdout.String(), p.stderr.String())
}

// rss returns the peak RSS GNU time reported, in bytes (0 without rss).
func (p *proc) rss() (int64, error) {
	if p.rssFile == "" {
		return 0, nil
	}
	data, err := os.ReadFile(p.rssFile)
	os.Remove(p.rssFile)
	if err != nil {
		return 0, err
	}
	lines := strings.Fields(strings.TrimSpace(string(data)))
	if len(lines) == 0 {
		return 0, fmt.Errorf("%s printed nothing", timeBin)
	}
	var kib int64
	if _, err := fmt.Sscan(lines[len(lines)-1], &kib); err != nil {
		return 0, fmt.Errorf("%s printed %q", timeBin, data)
	}
	return kib * 1024, nil
}

// run runs the command and returns its sample.
func (p *proc) run() (sample, error) {
	t0 := time.Now()
	err := p.cmd.Run()
	s := sample{wall: time.Since(t0)}
	if err != nil {
		return s, p.err(err)
	}
	s.rss, err = p.rss()
	return s, err
}

func median(xs []time.Duration) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianInt(xs []int64) int64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
func mb(n int64) string         { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }

// ---- end to end ----

// side is one side of a comparison: a name and how to run it once, for its
// wall time or (rss) its peak RSS.
type side struct {
	name string
	run  func(rss bool) (sample, error)
}

// compare runs each side runs times for wall time, then runs times for peak
// RSS, interleaving the sides and alternating their order.
func compare(runs int, sides ...side) ([][]sample, [][]sample, error) {
	walls := make([][]sample, len(sides))
	peaks := make([][]sample, len(sides))
	for _, rss := range []bool{false, true} {
		for i := 0; i < runs; i++ {
			order := make([]int, len(sides))
			for j := range order {
				order[j] = j
			}
			if i%2 == 1 {
				slices.Reverse(order)
			}
			for _, j := range order {
				s, err := sides[j].run(rss)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: %w", sides[j].name, err)
				}
				if rss {
					peaks[j] = append(peaks[j], s)
				} else {
					walls[j] = append(walls[j], s)
				}
			}
		}
	}
	return walls, peaks, nil
}

func endToEnd(work, bin, floor string, runs int) error {
	fake, err := startFakeJira(clientID, secret, cloudID)
	if err != nil {
		return err
	}
	defer fake.close()

	// The step runs in a checkout: a one-commit repository.
	checkout := filepath.Join(work, "checkout")
	if err := gittest.BuildLinearRepo(checkout, 1); err != nil {
		return err
	}
	binEnv := []string{"JIRA_CLIENT_ID=" + clientID, "JIRA_CLIENT_SECRET=" + secret,
		"JIRA_SITE=" + fake.URL, "JIRA_API_URL=" + fake.URL}
	binArgs := []string{"--issue-keys", "ABC-1", "--pipeline-id", "acme/app/ci", "--build-number", "7",
		"--url", "https://ci.example.com/7"}
	body := filepath.Join(work, "body.json")

	// Each run must be exactly the three requests, each one accepted.
	var conns = map[string][]int64{}
	check := func(who string) (snapshot, error) {
		s := fake.take()
		want := map[string]int{"builds": 1, "tenant_info": 1, "token": 1}
		if len(s.problems) > 0 || fmt.Sprint(s.counts) != fmt.Sprint(want) {
			return s, fmt.Errorf("%s: requests %v, want %v; problems: %v", who, s.counts, want, s.problems)
		}
		conns[who] = append(conns[who], int64(s.connections))
		return s, nil
	}

	runBinary := func(rss bool) (sample, error) {
		s, err := newProc(rss, checkout, binEnv, bin, binArgs...).run()
		if err != nil {
			return s, err
		}
		_, err = check("jira-cicd")
		return s, err
	}

	// The floor: the same three requests, the same way, with net/http and
	// nothing else (bench/floor). Its token request takes the step's form
	// (set after the warm-up).
	var floorArgs []string
	runFloor := func(rss bool) (sample, error) {
		s, err := newProc(rss, checkout, nil, floor, floorArgs...).run()
		if err != nil {
			return s, err
		}
		_, err = check("floor")
		return s, err
	}

	// curl, the same three requests: token and tenant_info at once (as
	// jira-cicd sends them), then the bulk submission with the same body.
	runCurl := func(rss bool) (sample, error) {
		var curlEnv []string // no proxies, no configuration
		tok := newProc(rss, work, curlEnv, "curl", "-q", "-sS", "--fail", "-d", "grant_type=client_credentials",
			"-d", "client_id="+clientID, "-d", "client_secret="+secret, "-d", "audience=api.atlassian.com",
			fake.URL+"/oauth/token")
		ten := newProc(rss, work, curlEnv, "curl", "-q", "-sS", "--fail", fake.URL+"/_edge/tenant_info")
		t0 := time.Now()
		var tokS, tenS sample
		var tokErr, tenErr error
		done := make(chan struct{})
		go func() { tokS, tokErr = tok.run(); close(done) }()
		tenS, tenErr = ten.run()
		<-done
		if err := errors.Join(tokErr, tenErr); err != nil {
			return sample{}, err
		}
		var t struct {
			AccessToken string `json:"access_token"`
		}
		var c struct {
			CloudID string `json:"cloudId"`
		}
		if err := errors.Join(json.Unmarshal(tok.stdout.Bytes(), &t), json.Unmarshal(ten.stdout.Bytes(), &c)); err != nil {
			return sample{}, err
		}
		subS, err := newProc(rss, work, curlEnv, "curl", "-q", "-sS", "--fail", "-H", "Authorization: Bearer "+t.AccessToken,
			"-H", "Content-Type: application/json", "-H", "Accept: application/json", "--data-binary", "@"+body,
			fake.URL+"/jira/builds/0.1/cloud/"+c.CloudID+"/bulk").run()
		if err != nil {
			return sample{}, err
		}
		s := sample{wall: time.Since(t0), rss: max(tokS.rss, tenS.rss, subS.rss)}
		_, err = check("curl")
		return s, err
	}

	// Warm up (page cache, the fake's first connections), and take the
	// body jira-cicd sends for curl to send, checked against Jira's schema.
	if _, err := newProc(false, checkout, binEnv, bin, binArgs...).run(); err != nil {
		return err
	}
	snap, err := check("warm-up")
	if err != nil {
		return err
	}
	if err := fakejira.ValidateBody("builds", snap.lastBody); err != nil {
		return fmt.Errorf("the body jira-cicd sent is not valid: %v", err)
	}
	if err := os.WriteFile(body, snap.lastBody, 0o644); err != nil {
		return err
	}
	floorArgs = []string{"-api", fake.URL, "-site", fake.URL, "-client-id", clientID, "-client-secret", secret, "-body", body}
	if snap.tokenJSON {
		floorArgs = append(floorArgs, "-token-json")
	}
	if _, err := runFloor(false); err != nil {
		return err
	}
	if _, err := runCurl(false); err != nil {
		return err
	}

	w, p, err := compare(runs, side{"jira-cicd", runBinary}, side{"floor", runFloor}, side{"curl", runCurl})
	if err != nil {
		return err
	}
	ours, flo, base := median(walls(w[0])), median(walls(w[1])), median(walls(w[2]))
	oursRSS, floRSS := medianInt(rsss(p[0])), medianInt(rsss(p[1]))
	peak := slices.Max(rsss(p[0]))
	tokenForm := "form"
	if snap.tokenJSON {
		tokenForm = "JSON"
	}
	fmt.Printf("End to end: one build to a local fake Jira (token as %s, tenant_info, bulk)\n", tokenForm)
	fmt.Printf("  %-38s %10s %10s %10s %6s\n", "", "wall", "peak RSS", "(max)", "conns")
	fmt.Printf("  %-38s %10s %10s %10s %6d\n", "jira-cicd", ms(ours), mb(oursRSS), mb(peak), medianInt(conns["jira-cicd"]))
	fmt.Printf("  %-38s %10s %10s %10s %6d\n", "floor (net/http, same requests)", ms(flo), mb(floRSS), mb(slices.Max(rsss(p[1]))), medianInt(conns["floor"]))
	fmt.Printf("  %-38s %10s %10s %10s %6d\n", "curl x3 (token + tenant_info at once)", ms(base), mb(medianInt(rsss(p[2]))), mb(slices.Max(rsss(p[2]))), medianInt(conns["curl"]))
	wallRatio := float64(ours) / float64(flo)
	rssRatio := float64(oursRSS) / float64(floRSS)
	judge := func(ok bool) string {
		if runs < minJudgedRuns {
			return fmt.Sprintf("(not judged: fewer than %d runs)", minJudgedRuns)
		}
		return verdict(ok)
	}
	fmt.Printf("  wall time: jira-cicd / floor %.2fx (target <= %.2fx)  %s\n", wallRatio, maxFloorWallRatio, judge(wallRatio <= maxFloorWallRatio))
	fmt.Printf("  peak RSS: jira-cicd / floor %.2fx (target <= %.2fx)  %s\n", rssRatio, maxFloorRSSRatio, judge(rssRatio <= maxFloorRSSRatio))
	ratio := float64(ours) / float64(base)
	fmt.Printf("  wall time: jira-cicd / curl %.2fx (target <= %.1fx)  %s\n", ratio, maxEndToEndRatio, verdict(ratio <= maxEndToEndRatio))
	fmt.Printf("  peak RSS: %s (target <= %s)  %s\n\n", mb(peak), mb(maxRSS), verdict(peak <= maxRSS))
	return nil
}

func walls(ss []sample) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = s.wall
	}
	return out
}

func rsss(ss []sample) []int64 {
	out := make([]int64, len(ss))
	for i, s := range ss {
		out[i] = s.rss
	}
	return out
}

// ---- range ----

var keyRE = regexp.MustCompile(gittest.KeyPattern)

func rangeScan(work, bin, rk string, runs, commits int) error {
	repo := filepath.Join(work, "range-repo")
	start := time.Now()
	if err := gittest.BuildLinearRepo(repo, commits+1); err != nil {
		return err
	}
	built := time.Since(start)
	since := gittest.LinearBaseTag

	// What both sides must find, from the messages themselves.
	occurrences := 0
	distinct := map[string]bool{}
	for i := 1; i <= commits; i++ {
		for _, k := range keyRE.FindAllString(gittest.LinearMessage(i), -1) {
			occurrences++
			if _, num, _ := strings.Cut(k, "-"); !strings.HasPrefix(num, "0") {
				distinct[k] = true // issue numbers never start with 0 (ABC-0 is no key)
			}
		}
	}
	n, err := gittest.GitLogGrep(repo, since)
	if err != nil {
		return err
	}
	if n != occurrences {
		return fmt.Errorf("git log | grep found %d keys, want %d", n, occurrences)
	}
	wantOurs := fmt.Sprintf("%d commits, %d keys\n", commits, len(distinct))

	gitEnv := gittest.GitEnv()
	runGit := func(rss bool) (sample, error) {
		return newProc(rss, repo, gitEnv, "sh", "-c", `git log --format=%B "$1" | grep -oE '`+gittest.KeyPattern+`' >/dev/null`,
			"sh", since+"..HEAD").run()
	}
	runOurs := func(rss bool) (sample, error) {
		p := newProc(rss, repo, nil, rk, repo, since)
		s, err := p.run()
		if err == nil && p.stdout.String() != wantOurs {
			err = fmt.Errorf("rangekeys printed %q, want %q", p.stdout.String(), wantOurs)
		}
		return s, err
	}
	// The real binary, when its commits_since scans the range: a dry run
	// sends the first 100 keys found (Jira's cap for a build).
	binArgs := []string{"--dry-run", "--commits-since", since, "--max-commits", fmt.Sprint(commits),
		"--pipeline-id", "p", "--build-number", "1", "--url", "https://ci.example.com/1"}
	binKeys := func(p *proc) (int, error) {
		var body struct {
			Builds []struct {
				IssueKeys []string `json:"issueKeys"`
			} `json:"builds"`
		}
		if err := json.Unmarshal(p.stdout.Bytes(), &body); err != nil || len(body.Builds) != 1 {
			return 0, fmt.Errorf("dry run printed no build: %v\n%s", err, p.stdout.String())
		}
		return len(body.Builds[0].IssueKeys), nil
	}
	runBinary := func(rss bool) (sample, error) {
		p := newProc(rss, repo, nil, bin, binArgs...)
		s, err := p.run()
		if err != nil {
			return s, err
		}
		if k, err := binKeys(p); err != nil || k < 100 {
			return s, fmt.Errorf("the dry run found %d keys, want 100 (%v)", k, err)
		}
		return s, nil
	}

	// Warm up the page cache; find out whether the binary scans the range.
	if _, err := runGit(false); err != nil {
		return err
	}
	if _, err := runOurs(false); err != nil {
		return err
	}
	p := newProc(false, repo, nil, bin, binArgs...)
	if _, err := p.run(); err != nil {
		return err
	}
	keys, err := binKeys(p)
	if err != nil {
		return err
	}
	binaryScans := keys >= 100

	sides := []side{{"git log | grep", runGit}, {"rangekeys", runOurs}}
	if binaryScans {
		sides = append(sides, side{"jira-cicd", runBinary})
	}
	w, pk, err := compare(runs, sides...)
	if err != nil {
		return err
	}
	base := median(walls(w[0]))
	fmt.Printf("Issue keys in a %d-commit range (%s..HEAD; repository built in %s)\n", commits, since, built.Round(time.Millisecond))
	fmt.Printf("  %-54s %10s %10s\n", "", "wall", "peak RSS")
	fmt.Printf("  %-54s %10s %10s\n", "git log --format=%B | grep -oE (baseline)", ms(base), mb(medianInt(rsss(pk[0]))))
	fmt.Printf("  %-54s %10s %10s\n", "rangekeys: gitrepo.Range + issuekeys, as jira-cicd", ms(median(walls(w[1]))), mb(medianInt(rsss(pk[1]))))
	judged, what := median(walls(w[1])), "rangekeys"
	if binaryScans {
		fmt.Printf("  %-54s %10s %10s\n", "jira-cicd --dry-run --commits-since "+since, ms(median(walls(w[2]))), mb(medianInt(rsss(pk[2]))))
		judged, what = median(walls(w[2])), "jira-cicd"
	} else {
		fmt.Printf("  (jira-cicd itself not timed: its dry run with commits_since found %d keys: this build does not scan the range)\n", keys)
	}
	ratio := float64(judged) / float64(base)
	fmt.Printf("  %s / git+grep %.2fx (target <= %.1fx)  %s\n\n", what, ratio, maxRangeRatio, verdict(ratio <= maxRangeRatio))
	return nil
}

// ---- size ----

func sizes(bin string) error {
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	layer, err := dockerfile.LayerSize("jira-cicd", data)
	if err != nil {
		return err
	}
	fmt.Println("Binary as the Dockerfile builds it (the image is this one file on scratch)")
	fmt.Printf("  stripped %s (target <= %s)  %s\n", mb(int64(len(data))), mb(maxBinary), verdict(len(data) <= maxBinary))
	fmt.Printf("  image layer, tar+gzip %s (target <= %s)  %s\n", mb(int64(layer)), mb(maxLayer), verdict(layer <= maxLayer))
	return nil
}
