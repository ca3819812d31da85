//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package gitrepo

import (
	"errors"
	"os"
)

// mapFile is not available on this platform; callers fall back to reading.
func mapFile(f *os.File) ([]byte, func() error, error) {
	return nil, nil, errors.ErrUnsupported
}
