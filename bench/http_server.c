// http_server: the HTTP benchmark guest. A small single-threaded HTTP/1.1
// keep-alive server that answers every GET with one static file, so the
// driver (bench/run_bench.cc) can compare requests per second natively and
// under wwjail.
//
//   http_server [--seccomp-floor] FILE PORT
//
// The listening socket: with LISTEN_FDS=1 and LISTEN_PID equal to our pid
// (systemd socket activation, which `wwjail --listen` provides), fd 3;
// otherwise the server binds 127.0.0.1:PORT itself (PORT 0: any free port).
// Either way it prints "ready PORT" once it accepts connections.
//
// FILE is read into memory once at start. Each response is one writev of the
// prebuilt header and the body; a response the socket cannot take at once is
// kept and finished on EPOLLOUT. Nothing on the request path is a syscall
// wwjail intercepts (epoll_wait, accept4, read, writev, close): the run
// measures what the jail costs a server that only uses descriptors it holds.
//
// Requests: "GET <anything> HTTP/1.x" answered with 200 and the file;
// pipelined requests are answered in order; "Connection: close" or HTTP/1.0
// closes after the response; anything else gets 400 and the connection is
// closed. The server runs until its stdin reaches EOF (or fails), then
// prints "served N waits W" (responses sent, epoll_wait calls that returned)
// and exits 0.
//
// --seccomp-floor installs a one-instruction allow-all seccomp filter first
// (as in syscall_bench.c): the server natively, but with every syscall taking
// the kernel's seccomp path, which is the least any seccomp jail costs.
//
// Exit status: 0 after stdin EOF, 1 when a syscall failed (errno on stderr),
// 2 on usage errors.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum {
  kMaxFd = 8192,         // connections on higher descriptors are refused
  kInBuf = 8192,         // bytes of unanswered request text per connection
  kMaxFile = 16 << 20,   // the served file lives in memory
};

struct conn {
  char in[kInBuf];
  size_t in_len;
  char* out;       // the unsent rest of a response, or NULL
  size_t out_len, out_off;
  int close_after; // close once `out` is flushed
};

static struct conn* g_conns[kMaxFd];
static char* g_body;
static size_t g_body_len;
static char g_header[256];
static size_t g_header_len;
static const char k400[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static unsigned long long g_served, g_waits;
static int g_epoll = -1;

static int fail(const char* what) {
  fprintf(stderr, "http_server: %s: %s\n", what, strerror(errno));
  return 1;
}

static void drop(int fd) {
  struct conn* c = g_conns[fd];
  if (c) {
    free(c->out);
    free(c);
    g_conns[fd] = NULL;
  }
  close(fd);  // also removes it from the epoll set
}

// Sends iov, keeping what the socket would not take. Returns 0, or -1 when
// the connection is gone (the caller drops it).
static int send_or_keep(int fd, struct conn* c, struct iovec* iov, int n) {
  size_t total = 0;
  for (int i = 0; i < n; ++i) total += iov[i].iov_len;
  ssize_t sent = writev(fd, iov, n);
  if (sent < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
    sent = 0;
  }
  if ((size_t)sent == total) return 0;
  size_t rest = total - (size_t)sent;
  c->out = malloc(rest);
  if (!c->out) return -1;
  size_t at = 0, skip = (size_t)sent;
  for (int i = 0; i < n; ++i) {
    size_t len = iov[i].iov_len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    memcpy(c->out + at, (char*)iov[i].iov_base + skip, len - skip);
    at += len - skip;
    skip = 0;
  }
  c->out_len = rest;
  c->out_off = 0;
  struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};  // stop reading until flushed
  return epoll_ctl(g_epoll, EPOLL_CTL_MOD, fd, &ev);
}

// Case-insensitive search for a header line "Name: value" in [start, end).
static int has_header_value(const char* start, const char* end, const char* name, const char* value) {
  size_t nlen = strlen(name), vlen = strlen(value);
  for (const char* p = start; p < end; ++p) {
    if ((p == start || p[-1] == '\n') && (size_t)(end - p) > nlen + 1 && strncasecmp(p, name, nlen) == 0 &&
        p[nlen] == ':') {
      const char* v = p + nlen + 1;
      while (v < end && (*v == ' ' || *v == '\t')) ++v;
      if ((size_t)(end - v) >= vlen && strncasecmp(v, value, vlen) == 0) return 1;
    }
  }
  return 0;
}

// Answers every complete request in the buffer. Returns -1 to drop the connection.
static int serve_requests(int fd, struct conn* c) {
  size_t at = 0;
  while (!c->out && !c->close_after) {
    char* start = c->in + at;
    size_t avail = c->in_len - at;
    char* end = memmem(start, avail, "\r\n\r\n", 4);
    if (!end) break;
    end += 4;
    at += (size_t)(end - start);
    char* line_end = memchr(start, '\r', (size_t)(end - start));
    int ok = strncmp(start, "GET ", 4) == 0 && line_end - start >= 14 && strncmp(line_end - 8, "HTTP/1.", 7) == 0;
    struct iovec iov[2];
    int n;
    if (ok) {
      int http10 = line_end[-1] == '0';
      c->close_after = http10 ? !has_header_value(start, end, "Connection", "keep-alive")
                              : has_header_value(start, end, "Connection", "close");
      iov[0] = (struct iovec){g_header, g_header_len};
      iov[1] = (struct iovec){g_body, g_body_len};
      n = 2;
    } else {
      c->close_after = 1;
      iov[0] = (struct iovec){(void*)k400, sizeof k400 - 1};
      n = 1;
    }
    if (send_or_keep(fd, c, iov, n) != 0) return -1;
    if (ok) ++g_served;
  }
  memmove(c->in, c->in + at, c->in_len - at);
  c->in_len -= at;
  if (c->close_after && !c->out) return -1;  // answered and flushed: close now
  if (c->in_len == sizeof c->in) return -1;  // a request larger than the buffer
  return 0;
}

static int on_readable(int fd) {
  struct conn* c = g_conns[fd];
  for (;;) {
    ssize_t got = read(fd, c->in + c->in_len, sizeof c->in - c->in_len);
    if (got == 0) return -1;  // the peer closed
    if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    c->in_len += (size_t)got;
    if (serve_requests(fd, c) != 0) return -1;
    if (c->out) return 0;  // wait for EPOLLOUT before reading more
    if (c->in_len < sizeof c->in) return 0;  // the kernel had no more; epoll says when it has
  }
}

static int on_writable(int fd) {
  struct conn* c = g_conns[fd];
  while (c->out_off < c->out_len) {
    ssize_t sent = write(fd, c->out + c->out_off, c->out_len - c->out_off);
    if (sent < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    c->out_off += (size_t)sent;
  }
  free(c->out);
  c->out = NULL;
  if (c->close_after) return -1;
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  if (epoll_ctl(g_epoll, EPOLL_CTL_MOD, fd, &ev) != 0) return -1;
  return serve_requests(fd, c);  // requests that arrived while we were flushing
}

static int accept_all(int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) return 0;
      if (errno == EMFILE || errno == ENFILE) return 0;  // try again on the next wake-up
      return fail("accept4");
    }
    struct conn* c = fd < kMaxFd ? calloc(1, sizeof *c) : NULL;
    if (!c) {
      close(fd);
      continue;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    g_conns[fd] = c;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(g_epoll, EPOLL_CTL_ADD, fd, &ev) != 0) {
      drop(fd);
      return fail("epoll_ctl");
    }
  }
}

static int load_file(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(path);
  struct stat st;
  if (fstat(fd, &st) != 0) return fail("fstat");
  if (!S_ISREG(st.st_mode) || st.st_size > kMaxFile) {
    fprintf(stderr, "http_server: %s: not a regular file of at most %d bytes\n", path, kMaxFile);
    return 1;
  }
  g_body_len = (size_t)st.st_size;
  g_body = malloc(g_body_len ? g_body_len : 1);
  if (!g_body) return fail("malloc");
  for (size_t at = 0; at < g_body_len;) {
    ssize_t got = pread(fd, g_body + at, g_body_len - at, (off_t)at);
    if (got <= 0) {
      if (got == 0) errno = EIO;  // the file shrank
      if (errno == EINTR) continue;
      return fail(path);
    }
    at += (size_t)got;
  }
  close(fd);
  g_header_len = (size_t)snprintf(g_header, sizeof g_header,
                                  "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n\r\n",
                                  g_body_len);
  return 0;
}

// fd 3 when systemd-style socket activation names this process, else -1.
static int activated_socket(void) {
  const char* fds = getenv("LISTEN_FDS");
  const char* pid = getenv("LISTEN_PID");
  if (!fds || !pid || strcmp(fds, "1") != 0) return -1;
  char* end;
  long p = strtol(pid, &end, 10);
  if (*end || p != (long)getpid()) return -1;
  int listening = 0;
  socklen_t len = sizeof listening;
  if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) return -1;
  return 3;
}

static int bind_port(long port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket"), -1;
  int one = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&sa, sizeof sa) != 0) return fail("bind 127.0.0.1"), -1;
  if (listen(fd, SOMAXCONN) != 0) return fail("listen"), -1;
  return fd;
}

static int install_allow_all_filter(void) {
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {1, &allow};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail("prctl PR_SET_NO_NEW_PRIVS");
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return fail("seccomp SET_MODE_FILTER");
  return 0;
}

int main(int argc, char** argv) {
  int a = 1;
  if (argc == 4 && strcmp(argv[1], "--seccomp-floor") == 0) {
    if (install_allow_all_filter() != 0) return 1;
    a = 2;
  }
  if (argc - a != 2) {
    fprintf(stderr, "usage: http_server [--seccomp-floor] FILE PORT\n");
    return 2;
  }
  char* end;
  long port = strtol(argv[a + 1], &end, 10);
  if (*end || port < 0 || port > 65535) {
    fprintf(stderr, "http_server: bad port %s\n", argv[a + 1]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);  // a client that goes away is an EPIPE from writev, not our death
  if (load_file(argv[a]) != 0) return 1;

  int lfd = activated_socket();
  if (lfd < 0 && (lfd = bind_port(port)) < 0) return 1;
  int fl = fcntl(lfd, F_GETFL);
  if (fl < 0 || fcntl(lfd, F_SETFL, fl | O_NONBLOCK) != 0) return fail("fcntl O_NONBLOCK");
  struct sockaddr_in bound;
  socklen_t blen = sizeof bound;
  if (getsockname(lfd, (struct sockaddr*)&bound, &blen) != 0) return fail("getsockname");

  g_epoll = epoll_create1(EPOLL_CLOEXEC);
  if (g_epoll < 0) return fail("epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
  if (epoll_ctl(g_epoll, EPOLL_CTL_ADD, lfd, &ev) != 0) return fail("epoll_ctl listen");
  // EPERM: stdin is a file or /dev/null, which epoll cannot watch; then the
  // server runs until it is killed.
  ev = (struct epoll_event){.events = EPOLLIN, .data.fd = STDIN_FILENO};
  if (epoll_ctl(g_epoll, EPOLL_CTL_ADD, STDIN_FILENO, &ev) != 0 && errno != EPERM) return fail("epoll_ctl stdin");

  printf("ready %u\n", (unsigned)ntohs(bound.sin_port));
  fflush(stdout);

  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(g_epoll, events, sizeof events / sizeof events[0], -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("epoll_wait");
    }
    ++g_waits;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        if (accept_all(lfd) != 0) return 1;
      } else if (fd == STDIN_FILENO) {
        char buf[256];
        ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
        if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
          printf("served %llu waits %llu\n", g_served, g_waits);
          return 0;
        }
      } else if (g_conns[fd]) {
        int rc = 0;
        if (events[i].events & EPOLLOUT) rc = on_writable(fd);
        else if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) rc = on_readable(fd);
        if (rc != 0) drop(fd);
      }
    }
  }
}
