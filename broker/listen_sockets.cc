#include "broker/listen_sockets.h"

#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include "sys/sys_error.h"

namespace wwjail {
namespace {

// How errors name the endpoint: "unix:PATH", "tcp port 8080".
std::string where(const NetEndpoint& e) {
  if (e.transport == Transport::kUnix) return std::string("unix:") + (e.abstract ? "@" : "") + e.path;
  return std::string(transport_name(e.transport)) + " port " + std::to_string(e.port_lo);
}

}  // namespace

ListenSocket::~ListenSocket() {
  if (!unix_path.empty()) ::unlink(unix_path.c_str());
}

EndpointAddress endpoint_address(const NetEndpoint& e) {
  EndpointAddress out;
  if (e.transport == Transport::kUnix) {
    auto* un = reinterpret_cast<sockaddr_un*>(&out.addr);
    un->sun_family = out.family = AF_UNIX;
    size_t at = e.abstract ? 1 : 0;
    // A path needs its NUL; an abstract name its leading NUL: 107 bytes either way.
    if (e.path.size() > kMaxUnixNameBytes) throw SetupError("--listen unix: the path is too long for a socket");
    std::memcpy(un->sun_path + at, e.path.data(), e.path.size());
    out.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + at + e.path.size() + (e.abstract ? 0 : 1));
  } else if (e.family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&out.addr);
    in->sin_family = out.family = AF_INET;
    in->sin_port = htons(e.port_lo);
    std::memcpy(&in->sin_addr, e.addr, 4);
    out.len = sizeof *in;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    in6->sin6_family = out.family = AF_INET6;
    in6->sin6_port = htons(e.port_lo);
    std::memcpy(&in6->sin6_addr, e.addr, 16);
    out.len = sizeof *in6;
  }
  return out;
}

std::vector<std::unique_ptr<ListenSocket>> open_listen_sockets(const std::vector<NetEndpoint>& endpoints) {
  std::vector<std::unique_ptr<ListenSocket>> out;
  for (const auto& e : endpoints) {
    auto ls = std::make_unique<ListenSocket>();
    EndpointAddress sa = endpoint_address(e);
    int type = e.transport == Transport::kUdp ? SOCK_DGRAM : SOCK_STREAM;
    ls->fd.reset(::socket(sa.family, type | SOCK_CLOEXEC, 0));
    if (!ls->fd.valid()) throw_sys("--listen " + where(e) + ": socket");
    int one = 1;
    if (sa.family != AF_UNIX) ::setsockopt(ls->fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(ls->fd.get(), reinterpret_cast<sockaddr*>(&sa.addr), sa.len) != 0) throw_sys("--listen " + where(e) + ": bind");
    if (e.transport == Transport::kUnix && !e.abstract) ls->unix_path = e.path;
    if (type == SOCK_STREAM && ::listen(ls->fd.get(), SOMAXCONN) != 0) throw_sys("--listen " + where(e) + ": listen");
    out.push_back(std::move(ls));
  }
  return out;
}

}  // namespace wwjail
