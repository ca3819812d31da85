package gitrepo

import (
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// RangeResult is the outcome of Range.
type RangeResult struct {
	Messages []string // newest first (by committer time, ties stable), HEAD's first
	SHAs     []string // same order
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
// The walk is git's: a queue ordered by committer time holds both sides,
// commits reached from since are painted uninteresting and pass that on to
// their ancestors, and the walk stops once only uninteresting commits are
// left (plus git's five-commit slop for clock skew) — so it reads the range
// and about as many commits again around the merge base, never since's whole
// history. With max set it also stops once max commits newer than anything
// still queued are found.
func (r *Repo) Range(since string, max int) (RangeResult, error) {
	var res RangeResult
	head, err := r.headHash()
	if err != nil {
		return res, err
	}
	since = strings.TrimSpace(since)
	if since == "" || isZeroSHA(since) {
		return r.onlyHead(res, head, "")
	}
	base, rerr := r.Resolve(since)
	if rerr != nil {
		return r.sinceMissing(res, head, since, rerr, max)
	}
	res.Since = base.String()
	if base == head {
		res, err = r.onlyHead(res, head, "")
		if err == nil {
			res.Warning = fmt.Sprintf("since %s is HEAD itself: there are no new commits; only HEAD's message is used", short(base))
		}
		return res, err
	}

	w := newWalker(r)
	w.since = base
	w.push(head, false)
	if w.node(0).flags&fMissing != 0 {
		return res, fmt.Errorf("read HEAD commit %s: %w", head, w.firstErr)
	}
	if i := w.push(base, true); w.node(i).flags&fMissing != 0 {
		// Resolve found it, so this is a damaged object.
		return r.sinceMissing(res, head, since, w.firstErr, max)
	}
	w.limit(max)
	return w.result(res, head, max)
}

func isZeroSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0") == ""
}

func short(h plumbing.Hash) string { return h.String()[:12] }

// onlyHead is a result of HEAD alone.
func (r *Repo) onlyHead(res RangeResult, head plumbing.Hash, warning string) (RangeResult, error) {
	ci, err := r.readCommit(head)
	if err != nil {
		return res, fmt.Errorf("read HEAD commit %s: %w", head, err)
	}
	res.Messages = []string{string(ci.msg)}
	res.SHAs = []string{head.String()}
	res.Scanned = 1
	res.Warning = warning
	return res, nil
}

// sinceMissing handles a since that does not name a commit of the clone.
// In a shallow clone it is most likely older than the shallow boundary, so
// the whole fetched history (up to max) is returned; otherwise only HEAD.
func (r *Repo) sinceMissing(res RangeResult, head plumbing.Hash, since string, cause error, max int) (RangeResult, error) {
	if !r.IsShallow() {
		return r.onlyHead(res, head, fmt.Sprintf("since %q was not found in the repository (%v): was history rewritten, or not fetched? Only HEAD's message is used", since, cause))
	}
	w := newWalker(r)
	w.push(head, false)
	if w.node(0).flags&fMissing != 0 {
		return res, fmt.Errorf("read HEAD commit %s: %w", head, w.firstErr)
	}
	w.limit(max)
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
func (r *Repo) LastTag() (string, error) {
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
	w := newWalker(r)
	w.noMessages = true
	hi := w.push(head, false)
	if w.node(hi).flags&fMissing != 0 {
		return "", fmt.Errorf("read HEAD commit %s: %w", head, w.firstErr)
	}
	w.pop() // HEAD itself is excluded
	w.expand(hi)
	for len(w.heap) > 0 {
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
	fOutput // popped while interesting, listed in w.output
)

type node struct {
	hash   plumbing.Hash
	when   int64
	seq    uint32
	pStart int32 // parents in walker.parents[pStart:pStart+pLen]
	pLen   int32
	flags  uint8
	msg    string
}

// walker is the state of one commit walk.
type walker struct {
	r          *Repo
	chunks     []*[1 << nodeChunkBits]node // nodes, in chunks that never move
	count      int32
	index      map[plumbing.Hash]int32
	parents    []plumbing.Hash // arena of the nodes' parent lists
	heap       []int32
	seq        uint32
	noMessages bool // never keep messages (LastTag)

	since             plumbing.Hash
	sinceReached      bool
	interestingQueued int // interesting nodes in the heap
	output            []int32
	liveOutput        int // nodes of output still interesting
	stoppedEarly      bool

	shallowHit plumbing.Hash // first boundary commit reached while interesting
	missing    plumbing.Hash // first missing commit reached while interesting
	missingErr error
	firstErr   error
	lastErr    error

	capT      int64 // oldest time among the first max+1 live outputs
	capTValid bool
}

func newWalker(r *Repo) *walker {
	return &walker{r: r, index: make(map[plumbing.Hash]int32, 256)}
}

// push reads commit h and queues it, unless it is already known, and
// returns its node. A commit that cannot be read is marked fMissing.
func (w *walker) push(h plumbing.Hash, uninteresting bool) int32 {
	if i, ok := w.index[h]; ok {
		if uninteresting {
			w.markUninteresting(i)
		}
		return i
	}
	i := w.count
	if int(i)>>nodeChunkBits == len(w.chunks) {
		w.chunks = append(w.chunks, new([1 << nodeChunkBits]node))
	}
	w.count++
	*w.node(i) = node{hash: h, seq: w.seq}
	w.seq++
	w.index[h] = i
	n := w.node(i)
	if uninteresting {
		n.flags |= fUninteresting
	}
	if _, ok := w.r.shallow[h]; ok {
		n.flags |= fShallow
	}
	if err := w.load(n); err != nil {
		n.flags |= fMissing
		w.lastErr = err
		if w.firstErr == nil {
			w.firstErr = err
		}
		return i
	}
	n.flags |= fInHeap
	if !uninteresting {
		w.interestingQueued++
	}
	w.heapPush(i)
	return i
}

// load reads a node's time, parents and, for an interesting node, message.
func (w *walker) load(n *node) error {
	wantMsg := n.flags&fUninteresting == 0 && !w.noMessages
	if g := w.r.graph; g != nil && !wantMsg {
		// The commit-graph has parents and times without inflating the
		// commit. (Commits whose message is wanted are inflated anyway:
		// reading them once, in walk order, beats a graph lookup now and
		// an inflate later, measured at about 2×.)
		if gi, err := g.GetIndexByHash(n.hash); err == nil {
			if cd, err := g.GetCommitDataByIndex(gi); err == nil {
				n.when = cd.When.Unix()
				n.pStart = int32(len(w.parents))
				w.parents = append(w.parents, cd.ParentHashes...)
				n.pLen = int32(len(cd.ParentHashes))
				return nil
			}
		}
	}
	ci, err := w.r.readCommit(n.hash)
	if err != nil {
		return err
	}
	n.when = ci.when
	n.pStart = int32(len(w.parents))
	w.parents = append(w.parents, ci.parents...)
	n.pLen = int32(len(ci.parents))
	if wantMsg {
		n.msg = string(ci.msg)
	}
	return nil
}

// nodeChunkBits sizes the node chunks (1024 nodes, about 80 KB).
const nodeChunkBits = 10

func (w *walker) node(i int32) *node {
	return &w.chunks[i>>nodeChunkBits][i&(1<<nodeChunkBits-1)]
}

func (w *walker) parentsOf(i int32) []plumbing.Hash {
	n := w.node(i)
	return w.parents[n.pStart : n.pStart+n.pLen]
}

// markUninteresting paints i and its known ancestors uninteresting.
func (w *walker) markUninteresting(i int32) {
	stack := []int32{i}
	for len(stack) > 0 {
		j := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := w.node(j)
		if n.flags&fUninteresting != 0 {
			continue
		}
		n.flags |= fUninteresting
		n.msg = ""
		if n.flags&fInHeap != 0 {
			w.interestingQueued--
		}
		if n.flags&fOutput != 0 {
			w.liveOutput--
			w.capTValid = false
		}
		if n.flags&fExpanded != 0 {
			for _, p := range w.parentsOf(j) {
				if k, ok := w.index[p]; ok {
					stack = append(stack, k)
				}
			}
		}
	}
}

// expand queues node i's parents, passing on its uninteresting paint.
func (w *walker) expand(i int32) {
	n := w.node(i)
	if n.flags&fExpanded != 0 {
		return
	}
	n.flags |= fExpanded
	unint := n.flags&fUninteresting != 0
	if n.flags&fShallow != 0 {
		if !unint && w.shallowHit.IsZero() && n.pLen > 0 {
			w.shallowHit = n.hash
		}
		n.pLen = 0 // its parents are not in the clone
		return
	}
	for k := int32(0); k < w.node(i).pLen; k++ {
		p := w.parents[w.node(i).pStart+k]
		if !unint && p == w.since {
			w.sinceReached = true
		}
		j := w.push(p, unint)
		if w.node(j).flags&fMissing != 0 && !unint && w.missing.IsZero() && w.node(j).flags&fUninteresting == 0 {
			w.missing = p
			w.missingErr = w.lastErr
		}
	}
}

// slop is git's allowance for clock skew: the walk goes on for this many
// uninteresting commits after only uninteresting ones are left.
const slop = 5

// limit runs the walk (git's limit_list).
func (w *walker) limit(max int) {
	left := slop
	stable := 0
	for len(w.heap) > 0 {
		i := w.pop()
		w.expand(i)
		n := w.node(i)
		if n.flags&fUninteresting != 0 {
			if w.interestingQueued > 0 {
				left = slop
				continue
			}
			if len(w.heap) > 0 && w.node(w.heap[0]).when >= n.when {
				left = slop
				continue
			}
			if left--; left == 0 {
				break
			}
			continue
		}
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
					return
				}
			} else {
				stable = 0
			}
		}
	}
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
func (w *walker) result(res RangeResult, head plumbing.Hash, max int) (RangeResult, error) {
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
	res.Messages = make([]string, 0, len(final))
	res.SHAs = make([]string, 0, len(final))
	for _, i := range final {
		n := w.node(i)
		if n.msg == "" {
			// Not kept during the walk (commit-graph walk, or an empty
			// message): read it now.
			ci, err := w.r.readCommit(n.hash)
			if err != nil {
				if n.hash == head {
					return res, fmt.Errorf("read HEAD commit %s: %w", n.hash, err)
				}
				warnings = append(warnings, fmt.Sprintf("the message of commit %s could not be read (%v)", short(n.hash), err))
				continue
			}
			n.msg = string(ci.msg)
		}
		res.SHAs = append(res.SHAs, n.hash.String())
		res.Messages = append(res.Messages, n.msg)
	}
	res.Warning = strings.Join(warnings, "; ")
	return res, nil
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
