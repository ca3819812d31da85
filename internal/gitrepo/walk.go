package gitrepo

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"
)

// Commit is what a commit says about itself. Text is UTF-8: a message
// written in ISO-8859-1 or windows-1252 (its encoding header) is converted.
type Commit struct {
	Hash        string
	Parents     []string // none for a root commit, or at a shallow clone's boundary
	AuthorName  string
	AuthorEmail string
	AuthorTime  time.Time // in the author's zone
	CommitTime  time.Time // in the committer's zone
	Message     string
}

// RangeResult is the outcome of Range.
type RangeResult struct {
	Commits  []Commit // newest first (by committer time, ties stable), HEAD's first
	Messages []string // the Commits' messages, same order
	SHAs     []string // the Commits' hashes, same order
	Scanned  int      // commits read during the walk (both sides)
	Capped   bool     // max reached before the range was exhausted
	Since    string   // the resolved SHA of since ("" when none)
	// Warning is non-empty when the range could not be walked completely
	// (shallow clone, since not in the clone, since not an ancestor of HEAD,
	// missing objects). The result then holds what could be found, at least
	// HEAD's message.
	Warning string
}

// ZeroSHA is the all-zero SHA CI systems pass for "no previous commit".
const ZeroSHA = "0000000000000000000000000000000000000000"

// fetchDepthHint is what to do about a shallow clone.
const fetchDepthHint = "fetch the full history (on GitHub Actions set `fetch-depth: 0` on actions/checkout; elsewhere `git fetch --unshallow`)"

// Range returns the messages of the commits reachable from HEAD and not from
// since (like `git log since..HEAD`), newest first, at most max of them
// (max <= 0: no limit). since may be a SHA (full or abbreviated), a tag, a
// branch or another ref; "" or the all-zero SHA mean "none": only HEAD.
//
// Problems with the history are not errors: Warning says what went wrong
// and the result holds what could be found (at least HEAD's message). The
// error is for a repository whose HEAD cannot be read.
//
// The walk is git's limit_list (revision.c), so that clock skew gives what
// git log gives: a queue ordered by committer time holds both sides; an
// uninteresting commit paints each parent, reads it and paints that
// parent's parents at once (and the paint runs down every commit already
// read); the walk stops when the queue is empty, or after five
// uninteresting commits in a row (git's slop) once nothing interesting is
// queued and everything queued is older than the last commit listed. So it
// reads the range and about as many commits again around the merge base,
// never since's whole history. With max set it also stops once max commits
// newer than anything still queued are found.
//
// The walk looks at ctx every 256 commits and returns ctx's error (and no
// result) once it has ended.
func (r *Repo) Range(ctx context.Context, since string, max int) (RangeResult, error) {
	if err := ctx.Err(); err != nil {
		return RangeResult{}, err
	}
	head, err := r.headHash()
	if err != nil {
		return RangeResult{}, err
	}
	return r.rangeFrom(ctx, head, since, max)
}

// RangeFrom is Range walked from head (a sha or ref) instead of HEAD: the
// commits of `git log since..head`, such as a pull request's own commits
// (base..head) when the checked-out commit is a merge the CI made. Its
// warnings say HEAD where they mean head.
func (r *Repo) RangeFrom(ctx context.Context, head, since string, max int) (RangeResult, error) {
	if err := ctx.Err(); err != nil {
		return RangeResult{}, err
	}
	h, err := r.Resolve(head)
	if err != nil {
		return RangeResult{}, err
	}
	return r.rangeFrom(ctx, h, since, max)
}

func (r *Repo) rangeFrom(ctx context.Context, head Hash, since string, max int) (RangeResult, error) {
	var res RangeResult
	var err error
	since = strings.TrimSpace(since)
	if since == "" || isZeroSHA(since) {
		return r.onlyHead(res, head, "")
	}
	base, rerr := r.Resolve(since)
	if rerr != nil {
		return r.sinceMissing(ctx, res, head, since, rerr, max)
	}
	res.Since = base.String()
	if base == head {
		res, err = r.onlyHead(res, head, "")
		if err == nil {
			res.Warning = fmt.Sprintf("since %s is HEAD itself: there are no new commits; only HEAD's message is used", short(base))
		}
		return res, err
	}

	w := newWalker(ctx, r)
	w.since = base
	// As `git log since..HEAD` queues them: ^since first, then HEAD;
	// since's parents are painted at once (git's handle_commit).
	if i := w.push(base, true); w.node(i).flags&fMissing != 0 {
		// Resolve found it, so this is a damaged object.
		return r.sinceMissing(ctx, res, head, since, w.firstErr, max)
	} else {
		w.markParents(i)
	}
	if i := w.push(head, false); w.node(i).flags&fMissing != 0 {
		return res, fmt.Errorf("read HEAD commit %s: %w", head, w.firstErr)
	}
	if err := w.limit(max); err != nil {
		return res, err
	}
	return w.result(res, head, max)
}

func isZeroSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0") == ""
}

func short(h Hash) string { return h.String()[:12] }

// onlyHead is a result of HEAD alone.
func (r *Repo) onlyHead(res RangeResult, head Hash, warning string) (RangeResult, error) {
	c, err := r.commit(head)
	if err != nil {
		return res, fmt.Errorf("read HEAD commit %s: %w", head, err)
	}
	res.Commits = []Commit{c}
	res.Messages = []string{c.Message}
	res.SHAs = []string{c.Hash}
	res.Scanned = 1
	res.Warning = warning
	return res, nil
}

// sinceMissing handles a since that does not name a commit of the clone.
// In a shallow clone it is most likely older than the shallow boundary, so
// the whole fetched history (up to max) is returned; otherwise only HEAD.
func (r *Repo) sinceMissing(ctx context.Context, res RangeResult, head Hash, since string, cause error, max int) (RangeResult, error) {
	if !r.IsShallow() {
		return r.onlyHead(res, head, fmt.Sprintf("since %q was not found in the repository (%v): was history rewritten, or not fetched? Only HEAD's message is used", since, cause))
	}
	w := newWalker(ctx, r)
	if i := w.push(head, false); w.node(i).flags&fMissing != 0 {
		return res, fmt.Errorf("read HEAD commit %s: %w", head, w.firstErr)
	}
	if err := w.limit(max); err != nil {
		return res, err
	}
	res, err := w.result(res, head, max)
	if err != nil {
		return res, err
	}
	res.Warning = fmt.Sprintf("since %q is not in this clone and the history is shallow: it is probably older than the %d commit(s) fetched, all of which are used; %s", since, len(res.SHAs), fetchDepthHint)
	return res, nil
}

// LastTag resolves `commits_since: last_tag`: the nearest tag reachable from
// HEAD's parents, HEAD itself excluded (so a release commit that is itself
// tagged walks back to the previous tag). "Nearest" is the first tagged
// commit in committer-time order. Annotated and lightweight tags count;
// among tags of one commit, annotated ones win, then the newest, then the
// name that sorts first. It returns "" and no error when there is none (in
// a shallow clone the previous tag may simply not have been fetched: see
// IsShallow).
//
// The walk checks ctx every few hundred commits and returns its error once
// it is done.
func (r *Repo) LastTag(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	head, err := r.headHash()
	if err != nil {
		return "", err
	}
	if err := r.loadTags(); err != nil {
		return "", err
	}
	if len(r.tags) == 0 {
		return "", nil
	}
	w := newWalker(ctx, r)
	w.noMessages = true
	hi := w.push(head, false)
	if w.node(hi).flags&fMissing != 0 {
		return "", fmt.Errorf("read HEAD commit %s: %w", head, w.firstErr)
	}
	w.pop() // HEAD itself is excluded
	w.expand(hi)
	for len(w.heap) > 0 {
		if err := w.tick(); err != nil {
			return "", err
		}
		i := w.pop()
		if list := r.tags[w.node(i).hash]; len(list) > 0 {
			return list[0].name, nil
		}
		w.expand(i)
	}
	return "", nil
}

// Node flags.
const (
	fUninteresting = 1 << iota
	fExpanded      // parents pushed
	fMissing       // the commit could not be read
	fShallow       // a shallow-clone boundary: its parents are absent
	fInHeap
	fOutput   // popped while interesting, listed in w.output
	fLoaded   // read: when, parents (and data) are set; else a stub that only carries flags
	fSeen     // queued once (git's SEEN): never queued again
	fCutShort // a shallow boundary that has parents in the full history
)

type node struct {
	hash   Hash
	when   int64
	seq    uint32
	pStart int32 // parents in walker.parents[pStart:pStart+pLen]
	pLen   int32
	tz     int32  // committer zone, seconds east of UTC
	msgAt  int32  // where the message starts in data
	flags  uint16 // the f* flags
	data   string // interesting commits: the author line, "\n", the message (UTF-8)
}

// walker is the state of one commit walk.
type walker struct {
	ctx        context.Context
	ticks      int
	r          *Repo
	chunks     []*[1 << nodeChunkBits]node // nodes, in chunks that never move
	count      int32
	loaded     int
	index      map[Hash]int32
	parents    []Hash // arena of the nodes' parent lists
	heap       []int32
	seq        uint32
	noMessages bool // never keep messages (LastTag)
	zones      zoneCache
	buf        []byte // scratch for node data
	stack      []int32

	since             Hash
	sinceReached      bool
	interestingQueued int // interesting nodes in the heap
	output            []int32
	liveOutput        int // nodes of output still interesting
	stoppedEarly      bool

	shallowHit Hash // first boundary commit reached while interesting
	missing    Hash // first missing commit reached while interesting
	missingErr error
	firstErr   error
	lastErr    error

	capT      int64 // oldest time among the first max+1 live outputs
	capTValid bool
}

func newWalker(ctx context.Context, r *Repo) *walker {
	return &walker{ctx: ctx, r: r, index: make(map[Hash]int32, 256)}
}

// tickEvery is how many commits the walks take between looks at ctx.
const tickEvery = 256

// tick returns ctx's error every tickEvery calls.
func (w *walker) tick() error {
	if w.ticks++; w.ticks%tickEvery != 0 {
		return nil
	}
	return w.ctx.Err()
}

// lookup returns h's node, creating a stub (flags only, not read) for a
// commit not met yet.
func (w *walker) lookup(h Hash) int32 {
	if i, ok := w.index[h]; ok {
		return i
	}
	i := w.count
	if int(i)>>nodeChunkBits == len(w.chunks) {
		w.chunks = append(w.chunks, new([1 << nodeChunkBits]node))
	}
	w.count++
	*w.node(i) = node{hash: h}
	w.index[h] = i
	return i
}

// parse reads node i once (git's parse_commit); a commit that cannot be
// read is marked fMissing.
func (w *walker) parse(i int32) bool {
	n := w.node(i)
	if n.flags&(fLoaded|fMissing) != 0 {
		return n.flags&fLoaded != 0
	}
	if err := w.load(n); err != nil {
		n.flags |= fMissing
		w.lastErr = err
		if w.firstErr == nil {
			w.firstErr = err
		}
		return false
	}
	n.flags |= fLoaded
	w.loaded++
	if _, ok := w.r.shallow[n.hash]; ok {
		n.flags |= fShallow
		if n.pLen > 0 {
			n.flags |= fCutShort
		}
		n.pLen = 0 // its parents are not in the clone
	}
	return true
}

// push reads commit h and queues it, unless it was queued before, and
// returns its node. With uninteresting set it is painted first.
func (w *walker) push(h Hash, uninteresting bool) int32 {
	i := w.lookup(h)
	if uninteresting {
		w.markUninteresting(i)
	}
	if !w.parse(i) {
		return i
	}
	w.queue(i)
	return i
}

// queue puts a parsed node in the heap unless it was queued before.
func (w *walker) queue(i int32) {
	n := w.node(i)
	if n.flags&fSeen != 0 {
		return
	}
	n.flags |= fSeen | fInHeap
	n.seq = w.seq
	w.seq++
	if n.flags&fUninteresting == 0 {
		w.interestingQueued++
	}
	w.heapPush(i)
}

// load reads a node's time, parents and, for an interesting node, message.
func (w *walker) load(n *node) error {
	wantMsg := n.flags&fUninteresting == 0 && !w.noMessages
	if !wantMsg {
		// The commit-graph has parents and times without inflating the
		// commit. (Commits whose message is wanted are inflated anyway:
		// reading them once, in walk order, beats a graph lookup now and
		// an inflate later, measured at about 2×.)
		start := len(w.parents)
		if when, ps, ok := w.r.graph.lookup(n.hash, w.parents); ok {
			n.when = when
			n.pStart = int32(start)
			w.parents = ps
			n.pLen = int32(len(ps) - start)
			return nil
		}
	}
	ci, err := w.r.readCommit(n.hash)
	if err != nil {
		return err
	}
	n.when = ci.when
	n.tz = int32(ci.tz)
	n.pStart = int32(len(w.parents))
	w.parents = append(w.parents, ci.parents...)
	n.pLen = int32(len(ci.parents))
	if wantMsg {
		b := append(w.buf[:0], ci.author...)
		b = append(b, '\n')
		n.msgAt = int32(len(b))
		b = append(b, ci.msg...)
		if ci.enc != nil {
			b = toUTF8(b, ci.enc)
			n.msgAt = int32(len(toUTF8(ci.author, ci.enc)) + 1)
		}
		n.data = string(b)
		w.buf = b[:0]
	}
	return nil
}

// nodeChunkBits sizes the node chunks (1024 nodes, about 80 KB).
const nodeChunkBits = 10

func (w *walker) node(i int32) *node {
	return &w.chunks[i>>nodeChunkBits][i&(1<<nodeChunkBits-1)]
}

// markUninteresting paints i uninteresting and, through every commit
// already read, its ancestors (git's mark_parents_uninteresting, which
// goes down every parsed commit's parent list and paints the first
// unparsed commit of each line, here a stub).
func (w *walker) markUninteresting(i int32) {
	if w.paint(i) {
		w.markParents(i)
	}
}

// markParents paints the ancestors of i (not i itself) uninteresting.
func (w *walker) markParents(i int32) {
	stack := append(w.stack[:0], i)
	for len(stack) > 0 {
		j := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := w.node(j)
		if n.flags&fLoaded == 0 {
			continue
		}
		for k := n.pStart; k < n.pStart+n.pLen; k++ {
			p := w.lookup(w.parents[k])
			if w.paint(p) {
				stack = append(stack, p)
			}
		}
	}
	w.stack = stack[:0]
}

// paint sets the uninteresting flag on one node; false if it had it.
func (w *walker) paint(j int32) bool {
	n := w.node(j)
	if n.flags&fUninteresting != 0 {
		return false
	}
	n.flags |= fUninteresting
	n.data = ""
	if n.flags&fInHeap != 0 {
		w.interestingQueued--
	}
	if n.flags&fOutput != 0 {
		w.liveOutput--
		w.capTValid = false
	}
	return true
}

// expand queues node i's parents (git's process_parents): an uninteresting
// commit paints each parent, reads it and paints that parent's own parents
// at once, before queueing it.
func (w *walker) expand(i int32) {
	n := w.node(i)
	if n.flags&fExpanded != 0 {
		return
	}
	n.flags |= fExpanded
	unint := n.flags&fUninteresting != 0
	if n.flags&fCutShort != 0 && !unint && w.shallowHit.IsZero() {
		w.shallowHit = n.hash
	}
	for k := int32(0); k < w.node(i).pLen; k++ {
		p := w.parents[w.node(i).pStart+k]
		if !unint && p == w.since {
			w.sinceReached = true
		}
		j := w.lookup(p)
		if unint {
			w.paint(j)
			if w.parse(j) {
				w.markParents(j)
				w.queue(j)
			}
			continue
		}
		if !w.parse(j) {
			if w.missing.IsZero() && w.node(j).flags&fUninteresting == 0 {
				w.missing = p
				w.missingErr = w.lastErr
			}
			continue
		}
		w.queue(j)
	}
}

// slop is git's allowance for clock skew: the walk goes on for this many
// uninteresting commits after only uninteresting ones are left.
const slop = 5

// limit runs the walk (git's limit_list), returning ctx's error if it ends.
func (w *walker) limit(max int) error {
	left := slop
	stable := 0
	date := int64(math.MaxInt64) // the last output commit's time
	for len(w.heap) > 0 {
		if err := w.tick(); err != nil {
			return err
		}
		i := w.pop()
		w.expand(i)
		n := w.node(i)
		if n.flags&fUninteresting != 0 {
			// git's still_interesting.
			switch {
			case len(w.heap) == 0:
				left = 0
			case date <= w.node(w.heap[0]).when, w.interestingQueued > 0:
				left = slop
			default:
				left--
			}
			if left == 0 {
				break
			}
			continue
		}
		date = n.when
		n.flags |= fOutput
		w.output = append(w.output, i)
		w.liveOutput++
		if max > 0 && w.liveOutput > max {
			// max+1 commits are listed: the first max of them are final
			// once everything still queued is older than all of them (a
			// commit can only be painted by a descendant, and with sane
			// clocks descendants are newer), give or take git's slop.
			if w.settled(max) {
				if stable++; stable >= slop {
					w.stoppedEarly = true
					return nil
				}
			} else {
				stable = 0
			}
		}
	}
	return nil
}

// settled reports whether the first max+1 live outputs are all strictly
// newer than everything in the queue.
func (w *walker) settled(max int) bool {
	if len(w.heap) == 0 {
		return true
	}
	if !w.capTValid {
		seen := 0
		for _, i := range w.output {
			n := w.node(i)
			if n.flags&fUninteresting != 0 {
				continue
			}
			if seen == 0 || n.when < w.capT {
				w.capT = n.when
			}
			if seen++; seen > max {
				break
			}
		}
		w.capTValid = true
	}
	return w.node(w.heap[0]).when < w.capT
}

// result turns the walk into a RangeResult.
func (w *walker) result(res RangeResult, head Hash, max int) (RangeResult, error) {
	var final []int32
	for _, i := range w.output {
		if w.node(i).flags&fUninteresting == 0 {
			final = append(final, i)
		}
	}
	res.Scanned = int(w.count)
	if max > 0 && len(final) > max {
		final = final[:max]
		res.Capped = true
	}
	if w.stoppedEarly {
		res.Capped = true
	}
	var warnings []string
	if !w.shallowHit.IsZero() && !res.Capped && !w.since.IsZero() {
		// (Without since, sinceMissing words its own warning.)
		warnings = append(warnings, fmt.Sprintf("the history is shallow: the walk from HEAD reached the clone's boundary at %s before reaching since %s, so older commits of the range are missing; %s", short(w.shallowHit), short(w.since), fetchDepthHint))
	}
	if !w.missing.IsZero() && !res.Capped {
		warnings = append(warnings, fmt.Sprintf("commit %s of the range could not be read (%v); the range is incomplete", short(w.missing), w.missingErr))
	}
	if !w.since.IsZero() && !w.sinceReached && !res.Capped && len(warnings) == 0 {
		if len(final) == 0 {
			warnings = append(warnings, fmt.Sprintf("since %s is not an ancestor of HEAD: HEAD is behind it (HEAD is one of its ancestors); only HEAD's message is used", short(w.since)))
		} else {
			warnings = append(warnings, fmt.Sprintf("since %s is not an ancestor of HEAD (rewritten history, or another branch): listing the commits reachable from HEAD but not from it, as git log since..HEAD does", short(w.since)))
		}
	}
	if len(final) == 0 {
		// HEAD is first whenever it is in the range; when it is not (HEAD
		// behind since), it is still reported, as promised.
		final = []int32{w.index[head]}
	}
	res.Commits = make([]Commit, 0, len(final))
	named := make([]nodeCommit, 0, len(final))
	res.Messages = make([]string, 0, len(final))
	res.SHAs = make([]string, 0, len(final))
	for _, i := range final {
		n := w.node(i)
		var c Commit
		if n.data == "" {
			// Not kept during the walk (HEAD behind since, painted
			// uninteresting): read it now.
			var err error
			if c, err = w.r.commit(n.hash); err != nil {
				if n.hash == head {
					return res, fmt.Errorf("read HEAD commit %s: %w", n.hash, err)
				}
				warnings = append(warnings, fmt.Sprintf("the message of commit %s could not be read (%v)", short(n.hash), err))
				continue
			}
		} else {
			c = w.commitOf(n)
			named = append(named, nodeCommit{len(res.Commits), n})
		}
		res.Commits = append(res.Commits, c)
	}
	w.fillNames(res.Commits, named)
	for _, c := range res.Commits {
		res.SHAs = append(res.SHAs, c.Hash)
		res.Messages = append(res.Messages, c.Message)
	}
	res.Warning = strings.Join(warnings, "; ")
	return res, nil
}

// commitOf builds the Commit of a node read with its data. Its hash and
// its parents' are cut from hex, a buffer of all the result's names made
// into one string at the end (see fillNames): one allocation per walk, not
// two or three per commit.
func (w *walker) commitOf(n *node) Commit {
	c := Commit{
		CommitTime: w.zones.time(n.when, int(n.tz)),
		Message:    n.data[n.msgAt:],
	}
	c.AuthorName, c.AuthorEmail, c.AuthorTime = parseIdent(n.data[:n.msgAt-1], &w.zones)
	return c
}

type nodeCommit struct {
	at int // index in the Commits
	n  *node
}

// fillNames sets the Hash and Parents of the commits built by commitOf.
func (w *walker) fillNames(commits []Commit, named []nodeCommit) {
	names := 0
	for _, nc := range named {
		names += 1 + int(nc.n.pLen)
	}
	buf := make([]byte, 0, names*40)
	for _, nc := range named {
		buf = hex.AppendEncode(buf, nc.n.hash[:])
		for k := int32(0); k < nc.n.pLen; k++ {
			p := w.parents[nc.n.pStart+k]
			buf = hex.AppendEncode(buf, p[:])
		}
	}
	all := string(buf)
	parents := make([]string, names-len(named))
	for _, nc := range named {
		c := &commits[nc.at]
		c.Hash, all = all[:40], all[40:]
		if nc.n.pLen > 0 {
			c.Parents = parents[:nc.n.pLen:nc.n.pLen]
			parents = parents[nc.n.pLen:]
			for k := range c.Parents {
				c.Parents[k], all = all[:40], all[40:]
			}
		}
	}
}

// The queue: newest committer time first, then first queued first.
func (w *walker) less(a, b int32) bool {
	na, nb := w.node(a), w.node(b)
	if na.when != nb.when {
		return na.when > nb.when
	}
	return na.seq < nb.seq
}

func (w *walker) heapPush(i int32) {
	w.heap = append(w.heap, i)
	h := w.heap
	j := len(h) - 1
	for j > 0 {
		p := (j - 1) / 2
		if !w.less(h[j], h[p]) {
			break
		}
		h[j], h[p] = h[p], h[j]
		j = p
	}
}

func (w *walker) pop() int32 {
	h := w.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	j := 0
	for {
		l := 2*j + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && w.less(h[r], h[l]) {
			m = r
		}
		if !w.less(h[m], h[j]) {
			break
		}
		h[j], h[m] = h[m], h[j]
		j = m
	}
	w.heap = h
	n := w.node(top)
	n.flags &^= fInHeap
	if n.flags&fUninteresting == 0 {
		w.interestingQueued--
	}
	return top
}
