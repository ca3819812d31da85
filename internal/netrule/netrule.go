// Package netrule holds the rules shared by the settings (which values are
// accepted) and the Jira client (which hosts may be reached over plain http,
// which cloud ids may go into a path): a leaf package, so neither imports the
// other.
package netrule

import (
	"net"
	"strings"
)

// IsLoopback reports whether host (a name or an IP, without port) is this
// machine: "localhost" or a loopback address. Only such hosts may be reached
// over plain http.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsCloudID reports whether id is a cloud id as Atlassian gives them: a UUID,
// 8-4-4-4-12 hexadecimal digits in either case. The id goes into request
// paths, so nothing else (`..`, `/`, `%2F`) is ever accepted.
func IsCloudID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i, r := range id {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
				return false
			}
		}
	}
	return true
}
