// udp_server: a tiny datagram server, and the ways a hostile one might try
// to turn its reply right into a send anywhere. Prints "ok ..." and exits
// 0, or "err ENAME" (the errno of the first call that failed) and exits 1;
// usage errors exit 2.
//
//   serve ADDR PORT N              bind ADDR:PORT, answer N datagrams with
//                                  "pong:" + the request, to the sender (recvfrom/sendto)
//   serve-msg ADDR PORT N          the same with recvmsg/sendmsg
//   send BIND_ADDR BIND_PORT HOW DEST_ADDR DEST_PORT
//                                  bind a socket to BIND_ADDR:BIND_PORT (0: ephemeral), then
//                                  send "hi" to DEST with HOW:
//                                    same     from the bound socket
//                                    other    from a second socket never bound
//                                    dup      from dup() of the bound socket, on another thread
//                                    unbound  no bind at all (autobind at the send)
//                                    pktinfo:SRC  sendmsg from the bound socket with IP_PKTINFO
//                                             naming SRC as the source address
//                                    lsrr:HOP  sendmsg from the bound socket with IP_RETOPTS
//                                             carrying a loose source route through HOP
//                                  DEST_ADDR may be an IPv6 literal on an IPv4 socket
//                                  (a different family)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inet_sockaddr.h"

static int fail(void) {
  const char* n = strerrorname_np(errno);
  printf("err %s\n", n ? n : "EUNKNOWN");
  return 1;
}

static int usage(const char* op) {
  fprintf(stderr, "udp_server: bad arguments for %s\n", op);
  return 2;
}

static int bound_socket(const char* addr, const char* port) {
  struct sockaddr_storage ss;
  socklen_t len = inet_sockaddr(addr, port, &ss);
  if (!len) return -2;
  int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
  if (fd < 0) return -1;
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (bind(fd, (struct sockaddr*)&ss, len) != 0) return -1;
  return fd;
}

static int serve(const char* op, const char* addr, const char* port, int count) {
  int fd = bound_socket(addr, port);
  if (fd == -2) return usage(op);
  if (fd < 0) return fail();
  int with_msg = !strcmp(op, "serve-msg");
  for (int i = 0; i < count; ++i) {
    char req[256], reply[300];
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    struct iovec iov = {req, sizeof req - 1};
    struct msghdr m = {.msg_name = &peer, .msg_namelen = plen, .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n = with_msg ? recvmsg(fd, &m, 0) : recvfrom(fd, req, sizeof req - 1, 0, (struct sockaddr*)&peer, &plen);
    if (n < 0) return fail();
    if (with_msg) plen = m.msg_namelen;
    req[n] = 0;
    int rlen = snprintf(reply, sizeof reply, "pong:%s", req);
    struct iovec out = {reply, (size_t)rlen};
    struct msghdr r = {.msg_name = &peer, .msg_namelen = plen, .msg_iov = &out, .msg_iovlen = 1};
    ssize_t sent = with_msg ? sendmsg(fd, &r, 0) : sendto(fd, reply, (size_t)rlen, 0, (struct sockaddr*)&peer, plen);
    if (sent != rlen) return fail();
  }
  printf("ok served %d\n", count);
  return 0;
}

struct dup_send {
  int fd;
  struct sockaddr_storage* dest;
  socklen_t len;
  ssize_t result;
  int err;
};

static void* send_from_thread(void* arg) {
  struct dup_send* d = arg;
  d->result = sendto(d->fd, "hi", 2, 0, (struct sockaddr*)d->dest, d->len);
  d->err = errno;
  return NULL;
}

// "hi" to DEST with one IPPROTO_IP control message of TYPE carrying DATA.
static int send_with_cmsg(int fd, int type, const void* data, size_t size, struct sockaddr_storage* dest,
                          socklen_t len) {
  char control[CMSG_SPACE(64)] = {0};
  if (size > 64) return -1;
  struct iovec iov = {"hi", 2};
  struct msghdr m = {.msg_name = dest, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1,
                     .msg_control = control, .msg_controllen = CMSG_SPACE(size)};
  struct cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(size);
  memcpy(CMSG_DATA(c), data, size);
  return sendmsg(fd, &m, 0) == 2 ? 0 : -1;
}

static int send_pktinfo(int fd, const char* src, struct sockaddr_storage* dest, socklen_t len) {
  struct in_pktinfo info = {0};
  if (inet_pton(AF_INET, src, &info.ipi_spec_dst) != 1) return -1;
  return send_with_cmsg(fd, IP_PKTINFO, &info, sizeof info, dest, len);
}

// IP options as a control message: a loose source route (IPOPT_LSRR) whose
// one hop is HOP, padded to four bytes with IPOPT_END. The kernel sends such
// a datagram to HOP, not to its destination.
static int send_lsrr(int fd, const char* hop, struct sockaddr_storage* dest, socklen_t len) {
  unsigned char opt[8] = {131 /* IPOPT_LSRR */, 7, 4, 0, 0, 0, 0, 0 /* IPOPT_END */};
  if (inet_pton(AF_INET, hop, opt + 3) != 1) return -1;
  return send_with_cmsg(fd, IP_RETOPTS, opt, sizeof opt, dest, len);
}

static int send_as(const char* how, int bound, struct sockaddr_storage* dest, socklen_t len) {
  if (!strncmp(how, "pktinfo:", 8)) return send_pktinfo(bound, how + 8, dest, len);
  if (!strncmp(how, "lsrr:", 5)) return send_lsrr(bound, how + 5, dest, len);
  if (!strcmp(how, "same")) return sendto(bound, "hi", 2, 0, (struct sockaddr*)dest, len) == 2 ? 0 : -1;
  if (!strcmp(how, "other")) {
    int other = socket(dest->ss_family, SOCK_DGRAM, 0);
    return other >= 0 && sendto(other, "hi", 2, 0, (struct sockaddr*)dest, len) == 2 ? 0 : -1;
  }
  struct dup_send d = {dup(bound), dest, len, -1, 0};
  pthread_t t;
  if (d.fd < 0 || pthread_create(&t, NULL, send_from_thread, &d) != 0) return -1;
  pthread_join(t, NULL);
  errno = d.err;
  return d.result == 2 ? 0 : -1;
}

static int send_from(char** a) {
  const char* how = a[3];
  struct sockaddr_storage dest;
  socklen_t len = inet_sockaddr(a[4], a[5], &dest);
  struct sockaddr_storage local;
  if (!len || !inet_sockaddr(a[1], a[2], &local)) return usage("send");
  int fd;
  if (!strcmp(how, "unbound")) {
    fd = socket(local.ss_family, SOCK_DGRAM, 0);
    how = "same";
  } else {
    fd = bound_socket(a[1], a[2]);
  }
  if (fd < 0) return fail();
  if (strcmp(how, "same") && strcmp(how, "other") && strcmp(how, "dup") && strncmp(how, "pktinfo:", 8) &&
      strncmp(how, "lsrr:", 5))
    return usage("send");
  if (send_as(how, fd, &dest, len) != 0) return fail();
  printf("ok sent\n");
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage("(none)");
  const char* op = argv[1];
  char** a = argv + 1;
  int n = argc - 1;
  if ((!strcmp(op, "serve") || !strcmp(op, "serve-msg")) && n == 4) return serve(op, a[1], a[2], atoi(a[3]));
  if (!strcmp(op, "send") && n == 6) return send_from(a);
  return usage(op);
}
