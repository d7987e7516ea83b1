// The sockets wwjail binds and listens on itself for --listen, handed to
// the guest as fds 3.. (systemd socket activation). Opened before the guest
// is launched; closed (and a unix socket file removed) when the run ends.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "capabilities/net_caps.h"
#include "sys/unique_fd.h"

namespace wwjail {

struct ListenSocket {
  UniqueFd fd;
  std::string unix_path;  // removed with the socket ("": abstract or inet)
  ~ListenSocket();
};

// One endpoint as the kernel's socket address: one address and one port,
// a unix path or an abstract name. Throws SetupError for a unix name too
// long for a socket.
struct EndpointAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_UNSPEC;
};
EndpointAddress endpoint_address(const NetEndpoint& e);

// Throws SetupError / SysError naming the endpoint that failed.
std::vector<std::unique_ptr<ListenSocket>> open_listen_sockets(const std::vector<NetEndpoint>& endpoints);

}  // namespace wwjail
