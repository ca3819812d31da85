package gitrepo

import "errors"

var errBadDelta = errors.New("bad delta")

// patchDelta applies a git delta (pack object types 6 and 7) to base, as
// git's patch_delta does: two sizes, then copy instructions (offset and
// length from base) and insert instructions (literal bytes). Every offset
// and length is checked against base and the announced result size, which
// is itself bounded by maxObjectSize. (It replaced go-git's
// packfile.PatchDelta, whose package links go-git's storage layers; the
// fuzz test FuzzPatchDelta checks both agree.)
func patchDelta(base, delta []byte) ([]byte, error) {
	srcSize, rest, ok := deltaSize(delta)
	if !ok || srcSize != uint64(len(base)) {
		return nil, errBadDelta
	}
	dstSize, rest, ok := deltaSize(rest)
	if !ok || dstSize > maxObjectSize {
		return nil, errBadDelta
	}
	// The announced size is only a claim (a few hostile bytes can announce
	// 64 MiB): the buffer starts at what the base and the delta can
	// plausibly make and grows with the data copied.
	out := make([]byte, 0, min(dstSize, uint64(len(base))+uint64(len(delta))))
	for len(rest) > 0 {
		cmd := rest[0]
		rest = rest[1:]
		switch {
		case cmd&0x80 != 0:
			var off, n uint64
			for i := uint(0); i < 4; i++ {
				if cmd&(1<<i) != 0 {
					if len(rest) == 0 {
						return nil, errBadDelta
					}
					off |= uint64(rest[0]) << (8 * i)
					rest = rest[1:]
				}
			}
			for i := uint(0); i < 3; i++ {
				if cmd&(0x10<<i) != 0 {
					if len(rest) == 0 {
						return nil, errBadDelta
					}
					n |= uint64(rest[0]) << (8 * i)
					rest = rest[1:]
				}
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > uint64(len(base)) || n > dstSize-uint64(len(out)) {
				return nil, errBadDelta
			}
			out = append(out, base[off:off+n]...)
		case cmd != 0:
			n := uint64(cmd)
			if n > uint64(len(rest)) || n > dstSize-uint64(len(out)) {
				return nil, errBadDelta
			}
			out = append(out, rest[:n]...)
			rest = rest[n:]
		default:
			return nil, errBadDelta // opcode 0 is reserved
		}
	}
	if uint64(len(out)) != dstSize {
		return nil, errBadDelta
	}
	return out, nil
}

// deltaSize reads a little-endian base-128 size.
func deltaSize(b []byte) (uint64, []byte, bool) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if len(b) == 0 {
			return 0, nil, false
		}
		c := b[0]
		b = b[1:]
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, b, true
		}
	}
	return 0, nil, false
}
