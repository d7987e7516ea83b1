// What a send may do beyond a connect grant, decided on the broker's own
// duplicate of the guest's socket and on control messages the broker has
// copied: the reply right of a UDP socket bound through a bind grant
// (NetCaps::decide_reply), and what no send may carry.
//
// Kernel quirks this relies on:
//  * A source route in a control message (IP_RETOPTS carrying LSRR or SSRR,
//    an IPv6 routing header) makes udp_sendmsg send to the route's first
//    hop instead of the destination the grant was asked about. The kernel
//    asks for CAP_NET_RAW first, which the broker acting as a guest holds
//    only when the guest kept it (--cap-keep CAP_NET_RAW); refused here
//    whatever the capabilities. The setsockopt spellings (IP_OPTIONS,
//    IPV6_RTHDR) are refused by the seccomp filter (shim/syscall_rules.cc).
//  * IP_PKTINFO and IPV6_PKTINFO (and its RFC 2292 number, 2) choose the
//    source address of one datagram, overriding the address the socket is
//    bound to.
//  * IPv6 sends a ::1-sourced datagram out of any interface the route
//    names; IPv4 refuses a 127/8 source off loopback (EINVAL).
#pragma once

#include <optional>
#include <vector>

#include "capabilities/net_caps.h"

namespace wwjail {

// The decision on a send to `t` from `sock` (our duplicate, of `transport`):
// a connect grant, or else the reply right of a UDP socket bound through a
// bind grant, on the local address the kernel reports (getsockname). A
// socket bound to loopback answers peers on loopback only.
// `reply_from`, when given, is set to that local address when the reply
// right decided.
NetDecision send_decision(int sock, Transport transport, const NetCaps& net, const NetTarget& t,
                          std::optional<NetTarget>* reply_from);

// Whether control messages carry a route of their own (IP options, an IPv6
// routing header or next hop): refused on every inet send.
bool carries_route(const std::vector<char>& control);

// A reply goes out from the address its socket is bound to (`local`, as
// getsockname reports it): on a socket bound to one address, IP_PKTINFO and
// IPV6_PKTINFO must name exactly that address, so a server bound to
// loopback cannot send from the host's outside address. Naming none is not
// allowed there: the kernel then takes the source of the route to the peer
// (ip_cmsg_send zeroes it), which for a remote peer is the outside address.
// The interface may be named (servers name the one a query came in on): the
// source stays the bound address, and the kernel refuses a loopback source
// on any other interface (__mkroute_output). A wildcard-bound socket may
// send from any of its addresses.
bool reply_source_stays(const NetTarget& local, const std::vector<char>& control);

// Whether an IPv4 destination is a broadcast address of one of the host's
// subnets (the all-ones or all-zeros host part of an interface's prefix),
// asked of the kernel at each decision. Unknown counts as yes.
bool local_subnet_broadcast(const NetTarget& t);

}  // namespace wwjail
