#include "broker/handlers/send_rules.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace wwjail {
namespace {

// RFC 2292's numbers, still accepted by the kernel as control message types
// with the same meaning as the RFC 3542 ones (linux/in6.h, which glibc's
// netinet/in.h cannot be included beside): a routing header, and the
// source address and interface of one datagram.
constexpr int kIpv6RthdrRfc2292 = 5;
constexpr int kIpv6PktinfoRfc2292 = 2;

// Walks the control messages in `control` (a copy, never the guest's
// memory), calling `each` until it answers false; false when a header is
// malformed (a length out of the buffer).
template <typename Each>
bool for_each_cmsg(const std::vector<char>& control, Each each) {
  msghdr view{};
  view.msg_control = const_cast<char*>(control.data());
  view.msg_controllen = control.size();
  for (cmsghdr* c = CMSG_FIRSTHDR(&view); c; c = CMSG_NXTHDR(&view, c)) {
    if (c->cmsg_len < CMSG_LEN(0) || c->cmsg_len > control.size()) return false;
    if (!each(*c)) return false;
  }
  return true;
}

bool routes(const cmsghdr& c) {
  if (c.cmsg_level == IPPROTO_IP) return c.cmsg_type == IP_RETOPTS || c.cmsg_type == IP_OPTIONS;
  if (c.cmsg_level == IPPROTO_IPV6)
    return c.cmsg_type == IPV6_RTHDR || c.cmsg_type == kIpv6RthdrRfc2292 || c.cmsg_type == IPV6_NEXTHOP;
  return false;
}

bool loopback(const NetTarget& t) { return loopback_address(t.family, t.addr); }

}  // namespace

NetDecision send_decision(int sock, Transport transport, const NetCaps& net, const NetTarget& t,
                          std::optional<NetTarget>* reply_from) {
  NetDecision d = net.decide_connect(t);
  if (d.allowed || transport != Transport::kUdp || t.family == AF_UNIX) return d;
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (::getsockname(sock, reinterpret_cast<sockaddr*>(&local), &len) != 0) return d;
  auto here = inet_target(Transport::kUdp, local, len);
  if (!here) return d;
  NetDecision reply = net.decide_reply(*here, t);
  if (reply.allowed && !reply.audited && reply.grant && loopback(*here) && !loopback(t)) {
    // Only local clients can reach a loopback address, and IPv6 would put a
    // ::1-sourced datagram on the wire to a peer elsewhere (IPv4 refuses).
    NetDecision refused;
    refused.reason = "a UDP socket bound to loopback through " + reply.grant->origin +
                     " may reply to peers on loopback only, and " + t.text + " is not";
    return refused;
  }
  if (reply.allowed && !reply.audited && reply.grant && local_subnet_broadcast(t)) {
    NetDecision refused;
    refused.reason = "a UDP socket bound through " + reply.grant->origin +
                     " may reply to unicast peers only, and " + t.text + " is a broadcast address of a local subnet";
    return refused;
  }
  if (reply.allowed && reply.grant && reply_from) *reply_from = *here;
  return reply;
}

bool carries_route(const std::vector<char>& control) {
  bool found = false;
  bool well_formed = for_each_cmsg(control, [&](const cmsghdr& c) { return !(found = routes(c)); });
  return found || !well_formed;
}

bool reply_source_stays(const NetTarget& local, const std::vector<char>& control) {
  bool wildcard = std::all_of(local.addr, local.addr + 16, [](uint8_t b) { return b == 0; });
  return for_each_cmsg(control, [&](const cmsghdr& c) {
    if (wildcard) return true;
    if (c.cmsg_level == IPPROTO_IP && c.cmsg_type == IP_PKTINFO) {
      if (c.cmsg_len < CMSG_LEN(sizeof(in_pktinfo))) return false;
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(&c), sizeof info);
      bool same = local.family == AF_INET && std::memcmp(&info.ipi_spec_dst, local.addr, 4) == 0;
      return same;
    }
    if (c.cmsg_level == IPPROTO_IPV6 && (c.cmsg_type == IPV6_PKTINFO || c.cmsg_type == kIpv6PktinfoRfc2292)) {
      if (c.cmsg_len < CMSG_LEN(sizeof(in6_pktinfo))) return false;
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(&c), sizeof info);
      bool same = local.family == AF_INET6 && std::memcmp(&info.ipi6_addr, local.addr, 16) == 0;
      return same;
    }
    return true;
  });
}

bool local_subnet_broadcast(const NetTarget& t) {
  if (t.family != AF_INET) return false;
  if (t.addr[0] == 127) {
    // Loopback's 127.0.0.0/8, without asking: the common answer to a local client.
    bool zeros = t.addr[1] == 0 && t.addr[2] == 0 && t.addr[3] == 0;
    bool ones = t.addr[1] == 255 && t.addr[2] == 255 && t.addr[3] == 255;
    return zeros || ones;
  }
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return true;  // unknown: refused
  uint32_t dest = 0;
  std::memcpy(&dest, t.addr, 4);
  dest = ntohl(dest);
  bool broadcast = false;
  for (const ifaddrs* i = list; i && !broadcast; i = i->ifa_next) {
    if (!i->ifa_addr || !i->ifa_netmask || i->ifa_addr->sa_family != AF_INET) continue;
    uint32_t addr = ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
    uint32_t mask = ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_netmask)->sin_addr.s_addr);
    uint32_t host = dest & ~mask;
    bool narrow = mask == 0xffffffffu || mask == 0xfffffffeu;  // /32 and /31 have no broadcast address
    broadcast = !narrow && (dest & mask) == (addr & mask) && (host == 0 || host == ~mask);
  }
  ::freeifaddrs(list);
  return broadcast;
}

}  // namespace wwjail
