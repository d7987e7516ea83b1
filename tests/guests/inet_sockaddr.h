// The test guests' one way to turn an address literal and a port into a
// sockaddr (net_probe.c, udp_server.c): plain C, header-only, since each
// guest is a single file built without the project's libraries.
#ifndef WWJAIL_TESTS_GUESTS_INET_SOCKADDR_H
#define WWJAIL_TESTS_GUESTS_INET_SOCKADDR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

// An IPv4 or IPv6 literal and a port; returns the sockaddr's length, 0 if
// ADDR is neither.
static socklen_t inet_sockaddr(const char* addr, const char* port, struct sockaddr_storage* ss) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in* in4 = (struct sockaddr_in*)ss;
  struct sockaddr_in6* in6 = (struct sockaddr_in6*)ss;
  if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons((uint16_t)atoi(port));
    return sizeof *in4;
  }
  if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)atoi(port));
    return sizeof *in6;
  }
  return 0;
}

#endif
