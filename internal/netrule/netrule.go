// Package netrule holds the one rule shared by the settings (which URLs are
// accepted) and the Jira transport (which hosts may be reached over plain
// http): a leaf package, so neither imports the other.
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
