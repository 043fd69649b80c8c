package agents

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// ErrPrivateAddress is the refusal to connect to an address of the
// operator's own network for a registration file.
var ErrPrivateAddress = errors.New("agents: the registration file's host is a loopback, private, link-local or otherwise special-purpose address")

// specialPurpose are blocks that no public registration file lives in,
// beyond what netip's predicates name (RFC 6890 and its updates): "this
// network", shared address space (carrier-grade NAT), IETF protocol
// assignments, the documentation and benchmarking ranges, the reserved
// block, and the IPv6 prefixes that embed an IPv4 address or translate to
// one (NAT64, 6to4, Teredo), which could lead back to a private one.
var specialPurpose = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/32"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("fec0::/10"),
}

// IsPublic reports whether ip may be dialed for a registration file: not
// loopback, private (RFC 1918, RFC 4193), link-local, multicast,
// unspecified, nor in another special-purpose block. An IPv4-mapped IPv6
// address is judged as the IPv4 address it maps.
func IsPublic(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range specialPurpose {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// dialControl refuses, as the connection is dialed, any address public
// does not accept. It sees the address after name resolution and for every
// hop of a redirect, so a DNS answer that changes between a check and the
// connection (DNS rebinding) reaches nothing either.
func dialControl(public func(netip.Addr) bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("%w: %q", ErrPrivateAddress, address)
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !public(ip) {
			return fmt.Errorf("%w: %s", ErrPrivateAddress, host)
		}
		return nil
	}
}
