// syscall_bench: the benchmark guest. Times one operation in a tight loop and
// prints its cost, so the same binary can run natively and under wwjail and
// the two figures compare like with like.
//
//   syscall_bench [--batches B] [--seccomp-floor | --notify-floor] open-close PATH ITERS
//   syscall_bench [--batches B] [--seccomp-floor | --notify-floor] stat|fstat PATH ITERS
//   syscall_bench [--batches B] [--seccomp-floor] getppid ITERS
//   syscall_bench [--batches B] [--seccomp-floor] pread4k PATH ITERS
//   syscall_bench [--batches B] [--notify-floor] connect-close PORT ITERS
//   syscall_bench fork-hold N
//
// The two floors run without wwjail and show what the kernel mechanism alone
// costs on this machine, so a missed target can be told apart from a slow
// broker:
//  --seccomp-floor installs a one-instruction filter that allows everything.
//    Once a thread has any filter, each of its syscalls enters the kernel
//    through the seccomp slow path: no seccomp jail's allowed syscalls can be
//    cheaper than this.
//  --notify-floor sends every openat, newfstatat and connect to a seccomp
//    user-notification listener in a thread of this process, which answers
//    CONTINUE at once (blocking RECV, no path check, no memory read). It is
//    the bare round trip that any broker pays per intercepted open or
//    connect.
//
// Timed ops run ITERS/10 warm-up iterations, then ITERS iterations split into
// B batches (default 10), each timed with CLOCK_MONOTONIC, and print one line
//   op=NAME iters=ITERS batches=B ns_per_op=MEDIAN min=MIN max=MAX
// where the figures are per-operation nanoseconds over the batches. The
// median batch keeps one preempted batch from moving the result.
//
// connect-close makes one iteration socket(AF_INET, SOCK_STREAM) + a blocking
// connect to 127.0.0.1:PORT + close. Something must listen there and accept
// (and close) the connections, or the backlog fills and connect stalls.
//
// fork-hold makes N processes in all (itself and N-1 children) that block in
// read() on a pipe, prints "ready N" once every fork has returned, and holds
// them until its stdin reaches EOF; then it releases and reaps them and
// prints "done". The driver reads the broker's memory in between.
//
// Exit status: 0 on success, 1 when a syscall failed (the errno is printed on
// stderr: under wwjail that usually means a missing grant), 2 on usage errors.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kMaxBatches = 1000 };

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int usage(void) {
  fprintf(stderr,
          "usage: syscall_bench [--batches B] [--seccomp-floor | --notify-floor] open-close PATH ITERS\n"
          "       syscall_bench [--batches B] [--seccomp-floor | --notify-floor] stat|fstat PATH ITERS\n"
          "       syscall_bench [--batches B] [--seccomp-floor] getppid ITERS\n"
          "       syscall_bench [--batches B] [--seccomp-floor] pread4k PATH ITERS\n"
          "       syscall_bench [--batches B] [--notify-floor] connect-close PORT ITERS\n"
          "       syscall_bench fork-hold N\n");
  return 2;
}

static int fail(const char* what, const char* arg) {
  fprintf(stderr, "syscall_bench: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
  return 1;
}

static long parse_count(const char* s) {
  char* end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v <= 0) return -1;
  return v;
}

// One operation, repeated `n` times; returns 0 or -1 with errno set.
typedef int (*op_fn)(long n);

static const char* g_path;
static int g_fd = -1;
static int g_expected_fd = -1;
static char g_buf[4096];

static int op_open_close(long n) {
  for (long i = 0; i < n; ++i) {
    int fd = open(g_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    // open returns the lowest free descriptor, the same one every time in
    // this loop. Anything else is a wrong answer from the jail (say, a reply
    // that carried no fd), which a benchmark must not time as a success.
    if (fd != g_expected_fd) {
      fprintf(stderr, "syscall_bench: open-close %s: open returned fd %d, expected %d (wrong result)\n", g_path, fd,
              g_expected_fd);
      exit(1);
    }
    close(fd);
  }
  return 0;
}

static int op_stat(long n) {
  struct stat st;
  for (long i = 0; i < n; ++i) {
    if (stat(g_path, &st) != 0) return -1;
  }
  return 0;
}

// glibc's fstat is newfstatat(fd, "", AT_EMPTY_PATH): a path-carrying
// syscall as far as a filter can tell, which is what makes it worth timing.
static int op_fstat(long n) {
  struct stat st;
  for (long i = 0; i < n; ++i) {
    if (fstat(g_fd, &st) != 0) return -1;
  }
  return 0;
}

static int op_getppid(long n) {
  // glibc's getppid() is a real syscall every time (there is no vDSO or
  // cached variant), which is what makes it the cheapest probe of the
  // per-syscall cost of the seccomp filter itself.
  for (long i = 0; i < n; ++i) (void)getppid();
  return 0;
}

static int op_pread4k(long n) {
  // pread at offset 0 so every call copies a full 4 KiB from the page cache
  // and no call ever reaches EOF.
  for (long i = 0; i < n; ++i) {
    ssize_t got = pread(g_fd, g_buf, sizeof g_buf, 0);
    if (got != (ssize_t)sizeof g_buf) {
      if (got >= 0) errno = EIO;  // short read: the file is under 4 KiB
      return -1;
    }
  }
  return 0;
}

static struct sockaddr_in g_peer;

static int op_connect_close(long n) {
  for (long i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr*)&g_peer, sizeof g_peer) != 0) {
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    // connect succeeded and the socket must be connected to exactly that
    // peer: a jail that answered 0 without connecting is a wrong answer.
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    if (i == 0 && (getpeername(fd, (struct sockaddr*)&got, &len) != 0 || got.sin_port != g_peer.sin_port ||
                   got.sin_addr.s_addr != g_peer.sin_addr.s_addr)) {
      fprintf(stderr, "syscall_bench: connect-close: connect returned 0 but the socket is not connected to 127.0.0.1:%u"
                      " (wrong result)\n", (unsigned)ntohs(g_peer.sin_port));
      exit(1);
    }
    close(fd);
  }
  return 0;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static int time_op(const char* name, op_fn fn, long iters, int batches) {
  if (batches > iters) batches = (int)iters;
  long per_batch = iters / batches;
  if (fn(iters / 10 + 1) != 0) return fail(name, g_path);  // warm-up: caches, page tables, broker
  double ns[kMaxBatches];
  for (int b = 0; b < batches; ++b) {
    int64_t t0 = now_ns();
    if (fn(per_batch) != 0) return fail(name, g_path);
    ns[b] = (double)(now_ns() - t0) / (double)per_batch;
  }
  qsort(ns, (size_t)batches, sizeof ns[0], cmp_double);
  double median = batches % 2 ? ns[batches / 2] : (ns[batches / 2 - 1] + ns[batches / 2]) / 2;
  printf("op=%s iters=%ld batches=%d ns_per_op=%.2f min=%.2f max=%.2f\n", name, per_batch * batches, batches, median,
         ns[0], ns[batches - 1]);
  return 0;
}

static int fork_hold(long n) {
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) != 0) return fail("pipe2", NULL);
  for (long i = 1; i < n; ++i) {
    pid_t pid = fork();
    if (pid < 0) return fail("fork", NULL);
    if (pid == 0) {
      // Blocks until the parent closes the write end. read() is allowed by
      // the filter, so a held child costs the broker nothing per syscall.
      close(gate[1]);
      char c;
      while (read(gate[0], &c, 1) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
  }
  close(gate[0]);
  printf("ready %ld\n", n);
  fflush(stdout);

  char buf[256];
  ssize_t got;
  while ((got = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
    if (got < 0 && errno != EINTR) break;
  }
  close(gate[1]);
  while (wait(NULL) > 0 || errno == EINTR) {
  }
  printf("done\n");
  return 0;
}

static int install_allow_all_filter(void) {
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {1, &allow};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail("prctl", "PR_SET_NO_NEW_PRIVS");
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return fail("seccomp", "SET_MODE_FILTER");
  return 0;
}

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

static int g_notify_pipe[2];

// Answers every notification with CONTINUE. Started before the filter is
// installed, so this thread itself is not filtered (a filter applies to the
// thread that installs it and to threads created after).
static void* notify_supervisor(void* unused) {
  (void)unused;
  int fd;
  if (read(g_notify_pipe[0], &fd, sizeof fd) != (ssize_t)sizeof fd) return NULL;
  for (;;) {
    struct seccomp_notif req;
    memset(&req, 0, sizeof req);  // the kernel refuses a receive buffer that is not zeroed
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
      if (errno == EINTR || errno == ENOENT) continue;
      return NULL;
    }
    struct seccomp_notif_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.id = req.id;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    (void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);  // ENOENT: the caller was interrupted
  }
}

static int install_notify_floor(void) {
  // Not a security boundary, so no architecture check: openat, newfstatat
  // (stat and glibc's fstat) and connect go to the listener, everything
  // else is allowed.
  struct sock_filter insns[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_newfstatat, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_connect, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof insns / sizeof insns[0], insns};
  pthread_t thread;
  if (pipe(g_notify_pipe) != 0) return fail("pipe", NULL);
  if (pthread_create(&thread, NULL, notify_supervisor, NULL) != 0) return fail("pthread_create", NULL);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail("prctl", "PR_SET_NO_NEW_PRIVS");
  int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (fd < 0) return fail("seccomp", "NEW_LISTENER");
  // Linux 6.6+: the woken side runs on the waker's CPU, as wwjail asks too.
  (void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
  if (write(g_notify_pipe[1], &fd, sizeof fd) != (ssize_t)sizeof fd) return fail("write", NULL);
  return 0;
}

int main(int argc, char** argv) {
  int batches = 10;
  int a = 1;
  for (;;) {
    if (a + 1 < argc && strcmp(argv[a], "--batches") == 0) {
      long b = parse_count(argv[a + 1]);
      if (b <= 0 || b > kMaxBatches) return usage();
      batches = (int)b;
      a += 2;
    } else if (a < argc && strcmp(argv[a], "--seccomp-floor") == 0) {
      if (install_allow_all_filter() != 0) return 1;
      a += 1;
    } else if (a < argc && strcmp(argv[a], "--notify-floor") == 0) {
      if (install_notify_floor() != 0) return 1;
      a += 1;
    } else {
      break;
    }
  }
  if (a >= argc) return usage();
  const char* op = argv[a++];
  int left = argc - a;

  if (strcmp(op, "getppid") == 0 && left == 1) {
    long iters = parse_count(argv[a]);
    return iters > 0 ? time_op(op, op_getppid, iters, batches) : usage();
  }
  if (strcmp(op, "open-close") == 0 && left == 2) {
    g_path = argv[a];
    long iters = parse_count(argv[a + 1]);
    if (iters <= 0) return usage();
    g_expected_fd = open(g_path, O_RDONLY | O_CLOEXEC);
    if (g_expected_fd < 0) return fail("open", g_path);
    close(g_expected_fd);
    return time_op(op, op_open_close, iters, batches);
  }
  if ((strcmp(op, "stat") == 0 || strcmp(op, "fstat") == 0) && left == 2) {
    g_path = argv[a];
    long iters = parse_count(argv[a + 1]);
    if (iters <= 0) return usage();
    g_fd = open(g_path, O_RDONLY | O_CLOEXEC);
    if (g_fd < 0) return fail("open", g_path);
    return time_op(op, op[0] == 'f' ? op_fstat : op_stat, iters, batches);
  }
  if (strcmp(op, "pread4k") == 0 && left == 2) {
    g_path = argv[a];
    long iters = parse_count(argv[a + 1]);
    if (iters <= 0) return usage();
    g_fd = open(g_path, O_RDONLY | O_CLOEXEC);
    if (g_fd < 0) return fail("open", g_path);
    return time_op(op, op_pread4k, iters, batches);
  }
  if (strcmp(op, "connect-close") == 0 && left == 2) {
    long port = parse_count(argv[a]);
    long iters = parse_count(argv[a + 1]);
    if (port <= 0 || port > 65535 || iters <= 0) return usage();
    g_peer.sin_family = AF_INET;
    g_peer.sin_port = htons((unsigned short)port);
    g_peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_path = argv[a];  // named in error messages
    return time_op(op, op_connect_close, iters, batches);
  }
  if (strcmp(op, "fork-hold") == 0 && left == 1) {
    long n = parse_count(argv[a]);
    return n > 0 && n <= 4096 ? fork_hold(n) : usage();
  }
  return usage();
}
