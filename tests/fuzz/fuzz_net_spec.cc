// libFuzzer target: the SPEC parser (tcp:ADDR:PORT, udp:..., unix:PATH) and
// the sockaddr reader the broker uses on guest memory, with the invariants
// every parsed endpoint must keep.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "capabilities/net_caps.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view spec(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto e = wwjail::parse_net_spec(spec, error);
  if (!e) check(!error.empty());  // a refusal always says why
  if (e) {
    check(e->port_lo <= e->port_hi);
    if (e->transport == wwjail::Transport::kUnix) {
      check(e->path.size() <= wwjail::kMaxUnixNameBytes);
      check(e->abstract || (!e->path.empty() && e->path.front() == '/' && e->path.find('\0') == std::string::npos));
    } else {
      check(e->family == 0 || e->family == AF_INET || e->family == AF_INET6);
      check(e->prefix >= 0 && e->prefix <= (e->family == AF_INET6 ? 128 : e->family == AF_INET ? 32 : 0));
    }
    // A grant on an address matches that address.
    if (e->transport != wwjail::Transport::kUnix && e->family != 0) {
      sockaddr_storage ss{};
      socklen_t len;
      if (e->family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&ss);
        in->sin_family = AF_INET;
        in->sin_port = htons(e->port_lo);
        std::memcpy(&in->sin_addr, e->addr, 4);
        len = sizeof *in;
      } else {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(e->port_hi);
        std::memcpy(&in6->sin6_addr, e->addr, 16);
        len = sizeof *in6;
      }
      auto t = wwjail::inet_target(e->transport, ss, len);
      check(t.has_value() && wwjail::endpoint_matches(*e, *t));
    }
  }
  // The same bytes as a socket address a guest handed over, any length.
  sockaddr_storage raw{};
  size_t n = size < sizeof raw ? size : sizeof raw;
  std::memcpy(&raw, data, n);
  for (auto transport : {wwjail::Transport::kTcp, wwjail::Transport::kUdp}) {
    auto t = wwjail::inet_target(transport, raw, static_cast<socklen_t>(n));
    if (t) {
      check(t->family == AF_INET || t->family == AF_INET6);
      std::string back;
      auto again = wwjail::parse_net_spec(t->text, back);  // the text a log shows parses back
      check(again.has_value());
      if (again) check(wwjail::endpoint_matches(*again, *t));
    }
  }
  return 0;
}
