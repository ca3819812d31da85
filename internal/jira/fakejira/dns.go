package fakejira

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// NXDomain is a DNS server on loopback that answers every query "no such
// name" (NXDOMAIN), so that a test can make a host name fail to resolve
// without asking the network's DNS.
type NXDomain struct {
	// Resolver sends every query to this server (Go's own resolver, not the
	// system's); pass it to the client's dialer.
	Resolver *net.Resolver
	queries  atomic.Int64
}

// Queries returns how many queries the server answered.
func (d *NXDomain) Queries() int64 { return d.queries.Load() }

// NewNXDomain starts an NXDomain server and stops it when the test ends.
func NewNXDomain(t testing.TB) *NXDomain {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fakejira: DNS server: %v", err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	d := &NXDomain{}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if msg, ok := nxdomain(buf[:n]); ok {
				d.queries.Add(1)
				_, _ = pc.WriteTo(msg, addr)
			}
		}
	}()
	server := pc.LocalAddr().String()
	d.Resolver = &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dialer net.Dialer
			return dialer.DialContext(ctx, "udp", server)
		},
	}
	return d
}

// nxdomain answers a query with NXDOMAIN.
func nxdomain(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{
		ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired,
		RecursionAvailable: true, RCode: dnsmessage.RCodeNameError,
	})
	if b.StartQuestions() != nil || b.Question(q) != nil {
		return nil, false
	}
	msg, err := b.Finish()
	return msg, err == nil
}
