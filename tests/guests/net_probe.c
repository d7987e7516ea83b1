// net_probe: a tiny guest that really makes one network call (bind, connect,
// a datagram send, ...) and reports what the kernel, through wwjail,
// answered. Prints "ok [data]" and exits 0, or "err ENAME" and exits 1;
// usage errors exit 2. The tests only ever name loopback peers they own.
//
//   connect tcp|udp ADDR PORT      stream: sends "ping", prints the reply;
//                                  datagram: sends "ping" on the connected socket
//   fastopen ADDR PORT             sendto(MSG_FASTOPEN) "ping" (connects), prints the reply
//   nonblock-connect ADDR PORT     O_NONBLOCK connect: first result, a second connect's
//                                  result, then waits for completion and pings
//   bind tcp|udp ADDR PORT         bind (and listen for tcp); prints the bound port
//   listen-unbound 4|6             listen() on a TCP socket never bound
//   sendto|sendmsg udp ADDR PORT MSG
//   sendmmsg udp ADDR PORT MSG [ADDR2 PORT2]
//                                  two datagrams "MSG#1", "MSG#2"; the second goes to
//                                  ADDR2:PORT2 when given; prints how many were sent
//   connected-sendto ADDR PORT ADDR2 PORT2 MSG
//                                  UDP connect to the first, then sendto the second
//   connect-unix PATH [LEN]        stream connect and ping; LEN cuts the sockaddr
//                                  short (bytes of sun_path the kernel may read)
//   connect-abstract NAME          the same in the abstract namespace
//   bind-unix PATH | bind-abstract NAME
//                                  bind and listen; prints the name getsockname reports
//   sendto-unix PATH MSG           datagram to a unix path
//   socketpair                     ping through a socketpair, no address at all
//   race connect|sendto GOOD BAD N a second thread flips sin_port between GOOD and BAD
//                                  while this one connects (or sends) to 127.0.0.1 until
//                                  N calls succeeded and N failed (bounded)
//   stall unix-connect PATH PORT | stall sendmmsg SILENT_PORT PORT
//                                  a thread blocks in connect (PATH's queue is full) or
//                                  sendmmsg (SILENT_PORT never reads); then this one
//                                  times a connect to PORT and prints "ok ms=N"
//   serve-fd3                      socket activation: checks LISTEN_*, accepts one
//                                  connection on fd 3 and answers "hello from fd3"
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "inet_sockaddr.h"

static const char* name_of(int e) {
  const char* n = strerrorname_np(e);
  return n ? n : "EUNKNOWN";
}

static int fail(void) {
  printf("err %s\n", name_of(errno));
  return 1;
}

static int usage(const char* op) {
  fprintf(stderr, "net_probe: bad arguments for %s\n", op);
  return 2;
}

static int sock_type(const char* proto) {
  if (!strcmp(proto, "tcp")) return SOCK_STREAM;
  if (!strcmp(proto, "udp")) return SOCK_DGRAM;
  return -1;
}

// A unix sockaddr: a path (NUL included) or an abstract name (leading NUL,
// no trailing one).
static socklen_t unix_sockaddr(const char* name, int abstract, struct sockaddr_un* un) {
  memset(un, 0, sizeof *un);
  un->sun_family = AF_UNIX;
  size_t n = strlen(name);
  if (n + 2 > sizeof un->sun_path) return 0;
  memcpy(un->sun_path + (abstract ? 1 : 0), name, n);
  // A path counts its terminating NUL, an abstract name its leading one.
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

// Nothing a test runs may block for long: a lost reply is an error.
static int with_timeouts(int fd) {
  if (fd < 0) return fd;
  struct timeval tv = {3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

static int print_reply(int fd) {
  char buf[128];
  ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
  if (n < 0) return fail();
  buf[n] = 0;
  printf("ok %s\n", buf);
  return 0;
}

static int ping(int fd) {
  if (send(fd, "ping", 4, MSG_NOSIGNAL) != 4) return fail();
  return print_reply(fd);
}

static int do_connect(const char* proto, const char* addr, const char* port) {
  struct sockaddr_storage ss;
  socklen_t len = inet_sockaddr(addr, port, &ss);
  int type = sock_type(proto);
  if (!len || type < 0) return usage("connect");
  int fd = with_timeouts(socket(ss.ss_family, type, 0));
  if (fd < 0 || connect(fd, (struct sockaddr*)&ss, len) != 0) return fail();
  if (type == SOCK_STREAM) return ping(fd);
  if (send(fd, "ping", 4, 0) != 4) return fail();
  printf("ok sent\n");
  return 0;
}

static int do_fastopen(const char* addr, const char* port) {
  struct sockaddr_storage ss;
  socklen_t len = inet_sockaddr(addr, port, &ss);
  if (!len) return usage("fastopen");
  int fd = with_timeouts(socket(ss.ss_family, SOCK_STREAM, 0));
  if (fd < 0 || sendto(fd, "ping", 4, MSG_FASTOPEN | MSG_NOSIGNAL, (struct sockaddr*)&ss, len) != 4) return fail();
  return print_reply(fd);
}

// Waits for a non-blocking connect to finish; 0 or -1 with errno.
static int wait_connected(int fd) {
  struct pollfd p = {fd, POLLOUT, 0};
  int rc = poll(&p, 1, 8000);
  if (rc < 0) return -1;
  if (rc == 0) {
    errno = ETIMEDOUT;
    return -1;
  }
  int err = 0;
  socklen_t l = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0) return -1;
  errno = err;
  return err ? -1 : 0;
}

static int do_nonblock_connect(const char* addr, const char* port) {
  struct sockaddr_storage ss;
  socklen_t len = inet_sockaddr(addr, port, &ss);
  if (!len) return usage("nonblock-connect");
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail();
  int rc = connect(fd, (struct sockaddr*)&ss, len);
  if (rc != 0 && errno != EINPROGRESS) return fail();
  const char* first = rc == 0 ? "0" : "EINPROGRESS";
  const char* again = "-";
  if (rc != 0) {
    // Still pending: the kernel answers a second connect with EALREADY.
    again = connect(fd, (struct sockaddr*)&ss, len) == 0 ? "0" : name_of(errno);
    if (wait_connected(fd) != 0) return fail();
  }
  int flags = fcntl(fd, F_GETFL);
  if (fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) return fail();
  with_timeouts(fd);
  if (send(fd, "ping", 4, MSG_NOSIGNAL) != 4) return fail();
  char buf[64];
  ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
  if (n < 0) return fail();
  buf[n] = 0;
  printf("ok first=%s again=%s reply=%s\n", first, again, buf);
  return 0;
}

static int print_bound_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  if (getsockname(fd, (struct sockaddr*)&ss, &l) != 0) return fail();
  int port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6*)&ss)->sin6_port)
                                      : ntohs(((struct sockaddr_in*)&ss)->sin_port);
  printf("ok %d\n", port);
  return 0;
}

static int do_bind(const char* proto, const char* addr, const char* port) {
  struct sockaddr_storage ss;
  socklen_t len = inet_sockaddr(addr, port, &ss);
  int type = sock_type(proto);
  if (!len || type < 0) return usage("bind");
  int fd = socket(ss.ss_family, type, 0);
  if (fd < 0 || bind(fd, (struct sockaddr*)&ss, len) != 0) return fail();
  if (type == SOCK_STREAM && listen(fd, 4) != 0) return fail();
  return print_bound_port(fd);
}

static int do_listen_unbound(const char* family) {
  int fd = socket(!strcmp(family, "6") ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || listen(fd, 4) != 0) return fail();
  return print_bound_port(fd);
}

static int do_send(const char* how, const char* addr, const char* port, const char* msg) {
  struct sockaddr_storage ss;
  socklen_t len = inet_sockaddr(addr, port, &ss);
  if (!len) return usage(how);
  int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
  if (fd < 0) return fail();
  ssize_t n;
  if (!strcmp(how, "sendto")) {
    n = sendto(fd, msg, strlen(msg), 0, (struct sockaddr*)&ss, len);
  } else {
    struct iovec iov = {(void*)msg, strlen(msg)};
    struct msghdr mh = {.msg_name = &ss, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1};
    n = sendmsg(fd, &mh, 0);
  }
  if (n != (ssize_t)strlen(msg)) return fail();
  printf("ok sent\n");
  return 0;
}

static int do_sendmmsg(int argc, char** argv) {
  // argv: sendmmsg udp ADDR PORT MSG [ADDR2 PORT2]
  struct sockaddr_storage to[2];
  socklen_t len[2];
  len[0] = inet_sockaddr(argv[2], argv[3], &to[0]);
  if (argc >= 7) {
    len[1] = inet_sockaddr(argv[5], argv[6], &to[1]);
  } else {
    to[1] = to[0];
    len[1] = len[0];
  }
  if (!len[0] || !len[1] || to[0].ss_family != to[1].ss_family) return usage("sendmmsg");
  char text[2][128];
  struct iovec iov[2];
  struct mmsghdr mm[2];
  memset(mm, 0, sizeof mm);
  for (int i = 0; i < 2; ++i) {
    snprintf(text[i], sizeof text[i], "%s#%d", argv[4], i + 1);
    iov[i].iov_base = text[i];
    iov[i].iov_len = strlen(text[i]);
    mm[i].msg_hdr.msg_name = &to[i];
    mm[i].msg_hdr.msg_namelen = len[i];
    mm[i].msg_hdr.msg_iov = &iov[i];
    mm[i].msg_hdr.msg_iovlen = 1;
  }
  int fd = socket(to[0].ss_family, SOCK_DGRAM, 0);
  if (fd < 0) return fail();
  int n = sendmmsg(fd, mm, 2, 0);
  if (n < 0) return fail();
  printf("ok %d\n", n);
  return 0;
}

static int do_connected_sendto(char** argv) {
  // argv: connected-sendto ADDR PORT ADDR2 PORT2 MSG
  struct sockaddr_storage peer, other;
  socklen_t plen = inet_sockaddr(argv[1], argv[2], &peer);
  socklen_t olen = inet_sockaddr(argv[3], argv[4], &other);
  if (!plen || !olen) return usage("connected-sendto");
  int fd = socket(peer.ss_family, SOCK_DGRAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr*)&peer, plen) != 0) return fail();
  // On a connected UDP socket an explicit address still wins.
  if (sendto(fd, argv[5], strlen(argv[5]), 0, (struct sockaddr*)&other, olen) < 0) return fail();
  printf("ok sent\n");
  return 0;
}

static int do_unix(const char* op, const char* name, int abstract, const char* cut, const char* msg) {
  struct sockaddr_un un;
  socklen_t len = unix_sockaddr(name, abstract, &un);
  if (!len) return usage(op);
  if (cut) len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + atoi(cut));
  if (!strncmp(op, "bind", 4)) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr*)&un, len) != 0 || listen(fd, 4) != 0) return fail();
    // The name the socket really got, as any peer would see it.
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    memset(&got, 0, sizeof got);
    if (getsockname(fd, (struct sockaddr*)&got, &glen) != 0) return fail();
    if (got.sun_path[0] == 0) got.sun_path[0] = '@';
    printf("ok %.*s\n", (int)(glen - offsetof(struct sockaddr_un, sun_path)), got.sun_path);
    return 0;
  }
  if (msg) {
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd < 0 || sendto(fd, msg, strlen(msg), 0, (struct sockaddr*)&un, len) < 0) return fail();
    printf("ok sent\n");
    return 0;
  }
  int fd = with_timeouts(socket(AF_UNIX, SOCK_STREAM, 0));
  if (fd < 0 || connect(fd, (struct sockaddr*)&un, len) != 0) return fail();
  return ping(fd);
}

static int do_socketpair(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return fail();
  char buf[16] = {0};
  if (write(sv[0], "ping", 4) != 4 || read(sv[1], buf, 4) != 4 || write(sv[1], "pong", 4) != 4 ||
      read(sv[0], buf, 4) != 4)
    return fail();
  printf("ok %s\n", buf);
  return 0;
}

static long ms_since(const struct timespec* t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

// --- race: one thread flips the port in a sockaddr the other keeps using.

static struct sockaddr_in race_addr;
static uint16_t race_good, race_bad;
static volatile int race_stop;
static long race_flips;

// Each value is held for a short spin, so a reader at any moment sees
// either one about as often.
static void hold(void) {
  for (volatile int i = 0; i < 64; ++i) {
  }
}

static void* flipper(void* unused) {
  (void)unused;
  while (!race_stop) {
    __atomic_store_n(&race_addr.sin_port, race_bad, __ATOMIC_RELAXED);
    hold();
    __atomic_store_n(&race_addr.sin_port, race_good, __ATOMIC_RELAXED);
    hold();
    __atomic_add_fetch(&race_flips, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

static int do_race(const char* mode, const char* good, const char* bad, const char* count) {
  int stream = !strcmp(mode, "connect");
  if (!stream && strcmp(mode, "sendto")) return usage("race");
  race_good = htons((uint16_t)atoi(good));
  race_bad = htons((uint16_t)atoi(bad));
  race_addr.sin_family = AF_INET;
  race_addr.sin_port = race_good;
  race_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  pthread_t t;
  if (pthread_create(&t, NULL, flipper, NULL) != 0) return usage("race");
  // The race only means something once the flipper really runs: on a
  // loaded machine it may not be scheduled for a while.
  while (__atomic_load_n(&race_flips, __ATOMIC_RELAXED) < 1000) sched_yield();
  // Runs until N calls succeeded and N were denied, or for 200*N calls or
  // 6 s, whichever comes first: the split between the two varies with
  // scheduling.
  int n = atoi(count), at_good = 0, at_bad = 0, ok = 0, denied = 0, other = 0;
  int udp = stream ? -1 : socket(AF_INET, SOCK_DGRAM, 0);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < 200 * n && (ok < n || denied < n) && ms_since(&t0) < 6000; ++i) {
    int rc;
    if (stream) {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      rc = connect(fd, (struct sockaddr*)&race_addr, sizeof race_addr);
      if (rc == 0) {
        // Where did it really go? The kernel knows.
        struct sockaddr_in peer;
        socklen_t l = sizeof peer;
        getpeername(fd, (struct sockaddr*)&peer, &l);
        if (peer.sin_port == race_good) ++at_good;
        else if (peer.sin_port == race_bad) ++at_bad;
      }
      close(fd);
    } else {
      rc = sendto(udp, "race", 4, 0, (struct sockaddr*)&race_addr, sizeof race_addr) == 4 ? 0 : -1;
    }
    if (rc == 0) ++ok;
    else if (errno == EACCES) ++denied;
    else ++other;
  }
  race_stop = 1;
  pthread_join(t, NULL);
  printf("ok ok=%d good=%d bad=%d denied=%d other=%d flips=%ld\n", ok, at_good, at_bad, denied, other, race_flips);
  return 0;
}

// --- stall: one thread blocks in a call the broker performs; another then
// times an unrelated connect. A broker that performs the first call on its
// only thread answers the second only when the first gives up (SO_SNDTIMEO,
// 4 s here).

static int stall_fd = -1;
static const char* stall_mode;
static const char* stall_arg;

static void* staller(void* unused) {
  (void)unused;
  struct timeval tv = {4, 0};
  setsockopt(stall_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (!strcmp(stall_mode, "unix-connect")) {
    struct sockaddr_un un;
    socklen_t len = unix_sockaddr(stall_arg, 0, &un);
    connect(stall_fd, (struct sockaddr*)&un, len);  // the listener's queue is full: blocks
  } else {
    static char big[65536];
    struct iovec iov = {big, sizeof big};
    struct mmsghdr mm;
    memset(&mm, 0, sizeof mm);
    mm.msg_hdr.msg_iov = &iov;
    mm.msg_hdr.msg_iovlen = 1;
    sendmmsg(stall_fd, &mm, 1, 0);  // the send buffer is full: blocks
  }
  return NULL;
}

static int do_stall(const char* mode, const char* arg, const char* port) {
  stall_mode = mode;
  stall_arg = arg;
  if (!strcmp(mode, "unix-connect")) {
    stall_fd = socket(AF_UNIX, SOCK_STREAM, 0);
  } else if (!strcmp(mode, "sendmmsg")) {
    // A connection to a peer that never reads, filled without blocking.
    struct sockaddr_storage ss;
    socklen_t len = inet_sockaddr("127.0.0.1", arg, &ss);
    stall_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (stall_fd < 0 || connect(stall_fd, (struct sockaddr*)&ss, len) != 0) return fail();
    int flags = fcntl(stall_fd, F_GETFL);
    fcntl(stall_fd, F_SETFL, flags | O_NONBLOCK);
    static char chunk[65536];
    while (send(stall_fd, chunk, sizeof chunk, MSG_NOSIGNAL) > 0) {
    }
    fcntl(stall_fd, F_SETFL, flags);
  } else {
    return usage("stall");
  }
  if (stall_fd < 0) return fail();
  pthread_t t;
  if (pthread_create(&t, NULL, staller, NULL) != 0) return usage("stall");
  usleep(300 * 1000);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  struct sockaddr_storage ss;
  socklen_t len = inet_sockaddr("127.0.0.1", port, &ss);
  int fd = with_timeouts(socket(AF_INET, SOCK_STREAM, 0));
  if (fd < 0 || connect(fd, (struct sockaddr*)&ss, len) != 0) return fail();
  printf("ok ms=%ld\n", ms_since(&t0));
  fflush(stdout);
  _exit(0);  // the staller may still be blocked
}

// --- socket activation (sd_listen_fds): the socket wwjail bound is fd 3.

static int do_serve_fd3(void) {
  const char* pid = getenv("LISTEN_PID");
  const char* fds = getenv("LISTEN_FDS");
  const char* names = getenv("LISTEN_FDNAMES");
  if (!pid || atol(pid) != (long)getpid()) {
    printf("err LISTEN_PID=%s but pid=%d\n", pid ? pid : "(unset)", (int)getpid());
    return 1;
  }
  if (!fds || strcmp(fds, "1")) {
    printf("err LISTEN_FDS=%s\n", fds ? fds : "(unset)");
    return 1;
  }
  if (!names) {
    printf("err LISTEN_FDNAMES unset\n");
    return 1;
  }
  if (fcntl(4, F_GETFD) != -1) {
    printf("err fd 4 is open\n");
    return 1;
  }
  int listening = 0;
  socklen_t l = sizeof listening;
  if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l) != 0) return fail();
  if (!listening) {
    printf("err fd 3 is not listening\n");
    return 1;
  }
  struct pollfd p = {3, POLLIN, 0};
  int rc = poll(&p, 1, 10000);
  if (rc <= 0) {
    if (rc == 0) errno = ETIMEDOUT;
    return fail();
  }
  int c = with_timeouts(accept(3, NULL, NULL));
  if (c < 0) return fail();
  char buf[64];
  ssize_t n = recv(c, buf, sizeof buf - 1, 0);
  if (n < 0) return fail();
  buf[n] = 0;
  if (send(c, "hello from fd3", 14, MSG_NOSIGNAL) != 14) return fail();
  close(c);
  printf("ok req=%s names=%s\n", buf, names);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage("(none)");
  const char* op = argv[1];
  char** a = argv + 1;  // a[0] is the op
  int n = argc - 1;
#define NEED(k) \
  if (n < (k) + 1) return usage(op)
  if (!strcmp(op, "connect")) { NEED(3); return do_connect(a[1], a[2], a[3]); }
  if (!strcmp(op, "fastopen")) { NEED(2); return do_fastopen(a[1], a[2]); }
  if (!strcmp(op, "nonblock-connect")) { NEED(2); return do_nonblock_connect(a[1], a[2]); }
  if (!strcmp(op, "bind")) { NEED(3); return do_bind(a[1], a[2], a[3]); }
  if (!strcmp(op, "listen-unbound")) { NEED(1); return do_listen_unbound(a[1]); }
  if (!strcmp(op, "sendto") || !strcmp(op, "sendmsg")) { NEED(4); return do_send(op, a[2], a[3], a[4]); }
  if (!strcmp(op, "sendmmsg")) { NEED(4); return do_sendmmsg(n, a); }
  if (!strcmp(op, "connected-sendto")) { NEED(5); return do_connected_sendto(a); }
  if (!strcmp(op, "connect-unix")) { NEED(1); return do_unix(op, a[1], 0, n > 2 ? a[2] : NULL, NULL); }
  if (!strcmp(op, "connect-abstract")) { NEED(1); return do_unix(op, a[1], 1, NULL, NULL); }
  if (!strcmp(op, "bind-unix")) { NEED(1); return do_unix(op, a[1], 0, NULL, NULL); }
  if (!strcmp(op, "bind-abstract")) { NEED(1); return do_unix(op, a[1], 1, NULL, NULL); }
  if (!strcmp(op, "sendto-unix")) { NEED(2); return do_unix(op, a[1], 0, NULL, a[2]); }
  if (!strcmp(op, "socketpair")) return do_socketpair();
  if (!strcmp(op, "race")) { NEED(4); return do_race(a[1], a[2], a[3], a[4]); }
  if (!strcmp(op, "stall")) { NEED(3); return do_stall(a[1], a[2], a[3]); }
  if (!strcmp(op, "serve-fd3")) return do_serve_fd3();
  return usage(op);
}
