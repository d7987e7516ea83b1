// escape_calls: runs a sequence of escape attempts (and their positive
// controls) in one guest process and prints exactly one line per operation:
//   "<op> ok [data]"      the call succeeded (data: what was read, a status)
//   "<op> err NAME"       it failed with errno NAME
//   "<op> killed SIGNAME" the attempt ran in a forked child that was killed
//   "<op> LEAK data"      a foreign-ABI attempt read a file (always a failure)
// Usage: escape_calls OP [ARGS...] [OP [ARGS...]]...; each op takes a fixed
// number of arguments (see kOps). Exit status 0 unless the usage was wrong (2).
//
// Attempts that may end the process (exec, foreign ABIs) run in a forked
// child; the parent reports what happened to it, so later ops still run.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/openat2.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

extern char** environ;

#define X32_SYSCALL_BIT 0x40000000L

static const char* errname(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EACCES) E(EPERM) E(ENOENT) E(EEXIST) E(ENOTDIR) E(EISDIR) E(EFAULT) E(ENAMETOOLONG) E(ELOOP) E(EXDEV)
    E(ENOSYS) E(EINVAL) E(EBADF) E(EOPNOTSUPP) E(EBUSY) E(ESRCH) E(E2BIG) E(ENOEXEC) E(ENOTTY) E(ECHILD)
    E(ESTALE) E(ENOMEM) E(EAGAIN) E(ETXTBSY) E(EROFS) E(ENXIO) E(ENODEV)
#undef E
    default: {
      static char buf[32];
      snprintf(buf, sizeof buf, "E#%d", e);
      return buf;
    }
  }
}

static const char* signame(int s) {
  switch (s) {
    case SIGSYS: return "SIGSYS";
    case SIGSEGV: return "SIGSEGV";
    case SIGKILL: return "SIGKILL";
    case SIGILL: return "SIGILL";
    case SIGBUS: return "SIGBUS";
    case SIGABRT: return "SIGABRT";
    default: {
      static char buf[32];
      snprintf(buf, sizeof buf, "SIG#%d", s);
      return buf;
    }
  }
}

static const char* cur_op;

static void out_ok(const char* data) { printf("%s ok%s%s\n", cur_op, data ? " " : "", data ? data : ""); }
static void out_err(int e) { printf("%s err %s\n", cur_op, errname(e)); }
// Reports a syscall-style result: >= 0 is ok, < 0 reports errno.
static void out_rc(long rc) {
  if (rc < 0) out_err(errno);
  else out_ok(NULL);
}

// Reads up to 255 bytes of fd, closes it, strips the trailing newline.
static int slurp(int fd, char* buf, size_t size) {
  ssize_t n = read(fd, buf, size - 1);
  int saved = errno;
  close(fd);
  if (n < 0) {
    errno = saved;
    return -1;
  }
  buf[n] = 0;
  char* nl = strchr(buf, '\n');
  if (nl) *nl = 0;
  return 0;
}

static void report_read_fd(int fd) {
  if (fd < 0) return out_err(errno);
  char buf[256];
  if (slurp(fd, buf, sizeof buf) < 0) return out_err(errno);
  out_ok(buf);
}

static void report_write_fd(int fd) {
  if (fd < 0) return out_err(errno);
  ssize_t n = write(fd, "x", 1);
  int saved = errno;
  close(fd);
  if (n != 1) return out_err(saved);
  out_ok(NULL);
}

// ---- attempts that may end the caller run in a child ----------------------

// The child reports errno (int) or a text result through `pipe_w` (close-on-
// exec, so a successful exec leaves the pipe empty).
typedef void (*child_fn)(int pipe_w, void* arg);

static void child_report_errno(int pipe_w, int e) {
  char msg[64];
  snprintf(msg, sizeof msg, "err %s", errname(e));
  (void)!write(pipe_w, msg, strlen(msg));
}

static void in_child(child_fn fn, void* arg) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return out_err(errno);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return out_err(errno);
  }
  if (pid == 0) {
    close(p[0]);
    // A seccomp kill would otherwise leave a core file behind.
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    fn(p[1], arg);
    _exit(99);
  }
  close(p[1]);
  char msg[512];
  size_t len = 0;
  ssize_t n;
  while (len < sizeof msg - 1 && (n = read(p[0], msg + len, sizeof msg - 1 - len)) > 0) len += (size_t)n;
  msg[len] = 0;
  close(p[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (len > 0) {
    printf("%s %s\n", cur_op, msg);
  } else if (WIFSIGNALED(status)) {
    printf("%s killed %s\n", cur_op, signame(WTERMSIG(status)));
  } else {
    // An exec that went through: the program's exit status.
    printf("%s ok exit=%d\n", cur_op, WEXITSTATUS(status));
  }
}

struct exec_arg {
  const char* path;   // execve path, or NULL for fd-based
  const char* extra[3];  // argv[1..3], NULL-terminated early
  int fd;
  int how;  // 0 execve, 1 fexecve, 2 execveat(AT_EMPTY_PATH)
};

static void do_exec(int pipe_w, void* p) {
  struct exec_arg* a = p;
  char* argv[] = {(char*)(a->path ? a->path : "fdexec"), (char*)a->extra[0], (char*)a->extra[1],
                  (char*)a->extra[2], NULL};
  // The guest's stdout is the test's pipe; the program must not write there.
  int devnull = open("/dev/null", O_WRONLY);
  if (devnull >= 0) dup2(devnull, 1);
  if (a->how == 0) execve(a->path, argv, environ);
  else if (a->how == 1) fexecve(a->fd, argv, environ);
  else syscall(SYS_execveat, a->fd, "", argv, environ, AT_EMPTY_PATH);
  child_report_errno(pipe_w, errno);
}

static void exec_in_child(struct exec_arg* a) { in_child(do_exec, a); }

// Copies a file into a fresh memfd; -1 with errno on failure.
static int memfd_copy(const char* src) {
  int in = open(src, O_RDONLY);
  if (in < 0) return -1;
  int m = memfd_create("payload", 0);
  if (m < 0) {
    close(in);
    return -1;
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    if (write(m, buf, (size_t)n) != n) {
      close(in);
      close(m);
      return -1;
    }
  }
  close(in);
  return m;
}

// ---- foreign syscall ABIs -------------------------------------------------

static long syscall_native_insn(long nr, long a1, long a2, long a3, long a4) {
  long ret;
  register long r10 __asm__("r10") = a4;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10) : "rcx", "r11", "memory");
  return ret;
}

static long syscall_int80(long nr, long a1, long a2, long a3) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a1), "c"(a2), "d"(a3) : "r8", "r9", "r10", "r11", "memory");
  return ret;
}

struct abi_arg {
  const char* path;
  int kind;  // 0 x32 open, 1 x32 openat, 2 i386 open (int 0x80), 3 i386 openat
};

static void do_foreign_open(int pipe_w, void* p) {
  struct abi_arg* a = p;
  // i386 pointers are 32 bits: the path must live below 4 GiB.
  char* low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (low == MAP_FAILED) return child_report_errno(pipe_w, errno);
  snprintf(low, 4096, "%s", a->path);
  long rc;
  switch (a->kind) {
    case 0: rc = syscall_native_insn(X32_SYSCALL_BIT | SYS_open, (long)low, O_RDONLY, 0, 0); break;
    case 1: rc = syscall_native_insn(X32_SYSCALL_BIT | SYS_openat, AT_FDCWD, (long)low, O_RDONLY, 0); break;
    case 2: rc = syscall_int80(5 /* i386 open */, (long)(uint32_t)(uintptr_t)low, O_RDONLY, 0); break;
    default: rc = syscall_int80(295 /* i386 openat */, -100 /* AT_FDCWD */, (long)(uint32_t)(uintptr_t)low, O_RDONLY);
  }
  if (rc < 0) return child_report_errno(pipe_w, (int)-rc);
  char buf[256];
  if (slurp((int)rc, buf, sizeof buf) < 0) return child_report_errno(pipe_w, errno);
  char msg[300];
  snprintf(msg, sizeof msg, "LEAK %s", buf);
  (void)!write(pipe_w, msg, strlen(msg));
}

// ---- helpers for the process ops --------------------------------------------

static void* thread_fn(void* arg) { return arg; }

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// ---- the ops ------------------------------------------------------------------

struct op {
  const char* name;
  int nargs;
};

static const struct op kOps[] = {
    {"read", 1}, {"write", 1}, {"fchmod", 1}, {"futimens", 1}, {"fchmod-unlinked", 1}, {"openat-read", 2}, {"openat2-dir", 3}, {"chdir", 1}, {"rdonly-reopen-write", 1},
    {"opath-reopen-write", 1}, {"opath-reopen-read", 1}, {"fdlink-read", 2}, {"bad-pointer", 0},
    {"bad-pointer-unmapped", 0}, {"bad-pointer-straddle", 0}, {"long-path", 0}, {"long-name", 1},
    {"name-to-handle", 1}, {"open-by-handle", 2}, {"uring-setup", 0}, {"uring-enter", 0},
    {"uring-register", 0}, {"exec", 1}, {"exec2", 2}, {"exec4", 4}, {"fexecve", 1}, {"execveat-opath", 1}, {"procfd-exec", 1},
    {"memfd-fexecve", 1}, {"memfd-execveat", 1}, {"memfd-procfd-exec", 1}, {"x32-open", 1},
    {"x32-openat", 1}, {"i386-open", 1}, {"i386-openat", 1}, {"unshare-user", 0}, {"unshare-ns", 0},
    {"clone-newns", 0}, {"clone-newuser", 0}, {"clone3", 0}, {"setns", 0}, {"ptrace-attach-parent", 0},
    {"ptrace-traceme", 0}, {"vm-readv-parent", 0}, {"vm-writev-parent", 0}, {"kcmp-parent", 0},
    {"pidfd-open-parent", 0}, {"pidfd-getfd-self", 0}, {"mount", 0}, {"umount", 0}, {"chroot", 0},
    {"pivot-root", 0}, {"bpf", 0}, {"perf-event-open", 0}, {"userfaultfd", 0}, {"keyctl", 0},
    {"add-key", 0}, {"seccomp-listener", 0}, {"seccomp-filter", 0}, {"tiocsti", 0}, {"ioctl-fionread", 0}, {"kill-parent", 0},
    {"kill-all", 0}, {"kill-parent-group", 0}, {"tgkill-parent", 0}, {"kill-self", 0}, {"kill-pid", 2},
    {"fork-wait", 0}, {"pthread", 0}, {"personality-rie", 0}, {"memfd-create", 0},
    // The broker must resolve /proc/self, /dev/fd and friends as the guest.
    {"devfd-exec-memfd", 1}, {"link-exec-memfd", 2}, {"hidden-self-exec-memfd", 2}, {"mode-of-memfd", 0},
    {"create-exec-memfd", 0}, {"open-stat-devfd", 1}, {"stat-devfd", 1},
    {"open-stat-procfd", 1}, {"stat-procfd", 1}, {"symlink-read", 2},
    // What a root guest keeps.
    {"cap-sets", 0},
    // Identity: the broker must act with the guest's credentials.
    {"drop-to", 1}, {"chmod", 2}, {"stat", 1}, {"bind-tcp", 1}, {"unix-connect", 1},
    // Metadata writes that change nothing (same mode, same owner): refused
    // on device nodes all the same.
    {"chown-same", 1}, {"touch", 1}, {"setxattr", 2}, {"fchmod-rw", 2},
    // Truncation by path (no descriptor is opened for writing).
    {"truncate", 1}, {"open-trunc", 1}, {"getxattr", 2},
    // System V IPC: a host segment by its id; one of the guest's own.
    {"shmat-id", 1}, {"shm-own", 0},
    // The broker's /proc entries, by a way the broker performs: MODE is
    // opath, openat2, plain, or beneath-self (openat2 of "self/environ"
    // beneath a /proc dirfd).
    {"proc-broker", 1},
    // The guest's own process tree in /proc, and entries outside it: REL is
    // read below /proc/PID of the guest itself, of a live child, of a child
    // that exited and was reaped, of its parent, or of an explicit PID.
    {"own-proc-read", 1}, {"child-proc-read", 1}, {"exited-proc-read", 1}, {"parent-proc-read", 1},
    {"pid-proc-read", 2},
    // A child reads /proc/PPID/REL of its parent (the guest itself).
    {"child-reads-parent", 1},
    // stat(PREFIX + "/proc/<own pid>/status"): PREFIX may hold ".." hops
    // through places the guest must learn nothing about.
    {"stat-own-suffix", 1},
    // Whether directory DIR lists NAME ("=pid": the guest's own pid).
    {"list-has", 2},
};

// Reads /proc/PID/REL, reported as "read" reports.
static void report_proc_read(pid_t pid, const char* rel) {
  char path[128];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, rel);
  report_read_fd(open(path, O_RDONLY));
}

// The child reports through a pipe; the parent prints what it said.
static void child_reads_parent(const char* rel) {
  int p[2];
  if (pipe(p) != 0) return out_err(errno);
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) return out_err(errno);
  if (child == 0) {
    char path[128];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)getppid(), rel);
    int fd = open(path, O_RDONLY);
    int result = fd >= 0 ? 0 : errno;
    (void)!write(p[1], &result, sizeof result);
    _exit(0);
  }
  close(p[1]);
  int result = -1;
  ssize_t n = read(p[0], &result, sizeof result);
  close(p[0]);
  waitpid(child, NULL, 0);
  if (n != (ssize_t)sizeof result) return out_err(EPROTO);
  if (result == 0) return out_ok("LEAK: the child opened its parent's entry");
  out_err(result);
}

static void proc_ops(const char* name, char** a) {
  if (!strcmp(name, "child-reads-parent")) return child_reads_parent(a[0]);
  if (!strcmp(name, "stat-own-suffix")) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/proc/%d/status", a[0], (int)getpid());
    struct stat st;
    return out_rc(stat(path, &st));
  }
  if (!strcmp(name, "own-proc-read")) return report_proc_read(getpid(), a[0]);
  if (!strcmp(name, "parent-proc-read")) return report_proc_read(getppid(), a[0]);
  if (!strcmp(name, "pid-proc-read")) return report_proc_read((pid_t)atoi(a[0]), a[1]);
  if (!strcmp(name, "child-proc-read") || !strcmp(name, "exited-proc-read")) {
    int live = name[0] == 'c';
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) return out_err(errno);
    if (child == 0) {
      if (live) pause();
      _exit(0);
    }
    if (!live) waitpid(child, NULL, 0);
    report_proc_read(child, a[0]);
    if (live) {
      kill(child, SIGKILL);
      waitpid(child, NULL, 0);
    }
    return;
  }
  // list-has
  char want[32];
  snprintf(want, sizeof want, "%s", a[1]);
  if (!strcmp(a[1], "=pid")) snprintf(want, sizeof want, "%d", (int)getpid());
  DIR* d = opendir(a[0]);
  if (!d) return out_err(errno);
  int found = 0;
  for (struct dirent* e; (e = readdir(d));) found = found || !strcmp(e->d_name, want);
  closedir(d);
  out_ok(found ? "found" : "missing");
}

static void run_op(const char* name, char** a) {
  cur_op = name;
  pid_t ppid = getppid();
  if (!strcmp(name, "read")) return report_read_fd(open(a[0], O_RDONLY));
  if (strstr(name, "-proc-read") || !strcmp(name, "list-has") || !strcmp(name, "child-reads-parent") ||
      !strcmp(name, "stat-own-suffix"))
    return proc_ops(name, a);
  if (!strcmp(name, "write")) return report_write_fd(open(a[0], O_WRONLY));
  if (!strcmp(name, "fchmod") || !strcmp(name, "futimens")) {
    // Metadata writes through a descriptor opened for reading.
    int fd = open(a[0], O_RDONLY);
    if (fd < 0) return out_err(errno);
    long rc = name[1] == 'c' ? fchmod(fd, 0600) : futimens(fd, NULL);
    int saved = errno;
    close(fd);
    errno = saved;
    return out_rc(rc);
  }
  if (!strcmp(name, "fchmod-unlinked")) {
    // A file the guest created and unlinked: private to it, so allowed.
    int fd = open(a[0], O_RDWR | O_CREAT | O_EXCL, 0644);
    if (fd < 0) return out_err(errno);
    if (unlink(a[0]) != 0) {
      int saved = errno;
      close(fd);
      return out_err(saved);
    }
    long rc = fchmod(fd, 0600);
    int saved = errno;
    close(fd);
    errno = saved;
    return out_rc(rc);
  }
  if (!strcmp(name, "openat-read")) {
    int d = open(a[0], O_RDONLY | O_DIRECTORY);
    if (d < 0) return out_err(errno);
    int fd = openat(d, a[1], O_RDONLY);
    int saved = errno;
    close(d);
    errno = saved;
    return report_read_fd(fd);
  }
  if (!strcmp(name, "openat2-dir")) {
    // openat2(DIR, REL, {O_RDONLY, resolve = a[2]}) on an O_PATH dirfd.
    int d = open(a[0], O_PATH | O_DIRECTORY);
    if (d < 0) return out_err(errno);
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_RDONLY;
    how.resolve = strtoull(a[2], NULL, 0);
    int fd = (int)syscall(SYS_openat2, d, a[1], &how, sizeof how);
    int saved = errno;
    close(d);
    errno = saved;
    return report_read_fd(fd);
  }
  if (!strcmp(name, "chdir")) return out_rc(chdir(a[0]));
  if (!strcmp(name, "rdonly-reopen-write") || !strcmp(name, "opath-reopen-write") ||
      !strcmp(name, "opath-reopen-read")) {
    int fd = open(a[0], name[0] == 'r' ? O_RDONLY : O_PATH);
    if (fd < 0) return out_err(errno);
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    if (!strcmp(name, "opath-reopen-read")) report_read_fd(open(p, O_RDONLY));
    else report_write_fd(open(p, O_WRONLY));
    close(fd);
    return;
  }
  if (!strcmp(name, "fdlink-read")) {
    int d = open(a[0], O_PATH | O_DIRECTORY);
    if (d < 0) return out_err(errno);
    char p[4200];
    snprintf(p, sizeof p, "/proc/self/fd/%d/%s", d, a[1]);
    report_read_fd(open(p, O_RDONLY));
    close(d);
    return;
  }
  if (!strcmp(name, "bad-pointer")) return out_rc(syscall(SYS_openat, AT_FDCWD, (const char*)8, O_RDONLY));
  if (!strcmp(name, "bad-pointer-unmapped") || !strcmp(name, "bad-pointer-straddle")) {
    char* pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) return out_err(errno);
    const char* path;
    if (name[12] == 'u') {
      munmap(pages, 8192);
      path = pages + 100;
    } else {
      // A path with no NUL before an inaccessible page.
      memset(pages, 'a', 4096);
      pages[0] = '/';
      mprotect(pages + 4096, 4096, PROT_NONE);
      path = pages + 4096 - 16;
      memcpy(pages + 4096 - 16, "/tmp/aaaaaaaaaaa", 16);
    }
    return out_rc(syscall(SYS_openat, AT_FDCWD, path, O_RDONLY));
  }
  if (!strcmp(name, "long-path")) {
    size_t n = 8192;
    char* p = malloc(n + 1);
    memset(p, 'a', n);
    p[0] = '/';
    p[n] = 0;
    long rc = open(p, O_RDONLY);
    free(p);
    return out_rc(rc);
  }
  if (!strcmp(name, "long-name")) {
    // A 300-byte name (NAME_MAX is 255) inside directory a[0].
    char p[4500];
    int len = snprintf(p, sizeof p - 301, "%s/", a[0]);
    memset(p + len, 'n', 300);
    p[len + 300] = 0;
    return out_rc(open(p, O_RDONLY));
  }
  if (!strcmp(name, "name-to-handle")) {
    struct {
      struct file_handle h;
      unsigned char bytes[MAX_HANDLE_SZ];
    } fh;
    fh.h.handle_bytes = MAX_HANDLE_SZ;
    int mount_id;
    return out_rc(name_to_handle_at(AT_FDCWD, a[0], &fh.h, &mount_id, 0));
  }
  if (!strcmp(name, "open-by-handle")) {
    // a[0]: any file on the same filesystem (the mount fd); a[1]: the
    // handle, "TYPE:HEXBYTES", made outside the jail for a file not granted.
    struct {
      struct file_handle h;
      unsigned char bytes[MAX_HANDLE_SZ];
    } fh;
    char* colon = strchr(a[1], ':');
    if (!colon) return out_err(EINVAL);
    fh.h.handle_type = atoi(a[1]);
    const char* hex = colon + 1;
    size_t len = strlen(hex) / 2;
    if (len > MAX_HANDLE_SZ) return out_err(EINVAL);
    for (size_t i = 0; i < len; ++i) fh.bytes[i] = (unsigned char)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]));
    fh.h.handle_bytes = (unsigned)len;
    int mfd = open(a[0], O_RDONLY);
    if (mfd < 0) return out_err(errno);
    int fd = open_by_handle_at(mfd, &fh.h, O_RDONLY);
    int saved = errno;
    close(mfd);
    errno = saved;
    return report_read_fd(fd);
  }
  if (!strcmp(name, "uring-setup")) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    long fd = syscall(__NR_io_uring_setup, 8, &params);
    if (fd >= 0) close((int)fd);
    return out_rc(fd);
  }
  if (!strcmp(name, "uring-enter")) return out_rc(syscall(__NR_io_uring_enter, 0, 1, 0, 0, NULL, 0));
  if (!strcmp(name, "uring-register")) return out_rc(syscall(__NR_io_uring_register, 0, 0, NULL, 0));
  if (!strcmp(name, "exec") || !strcmp(name, "exec2") || !strcmp(name, "exec4")) {
    // exec P; exec2 P A1; exec4 P A1 A2 A3 (e.g. the ELF loader running a file).
    struct exec_arg e = {a[0], {NULL, NULL, NULL}, -1, 0};
    int extra = name[4] ? name[4] - '1' : 0;
    for (int k = 0; k < extra; ++k) e.extra[k] = a[1 + k];
    return exec_in_child(&e);
  }
  if (!strcmp(name, "procfd-exec")) {
    // execve("/proc/self/fd/N") of a descriptor opened for reading.
    int fd = open(a[0], O_RDONLY);
    if (fd < 0) return out_err(errno);
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    struct exec_arg e = {p, {NULL, NULL, NULL}, -1, 0};
    exec_in_child(&e);
    close(fd);
    return;
  }
  if (!strcmp(name, "fexecve") || !strcmp(name, "execveat-opath")) {
    int fd = open(a[0], name[0] == 'f' ? O_RDONLY : O_PATH);
    if (fd < 0) return out_err(errno);
    struct exec_arg e = {NULL, {NULL, NULL, NULL}, fd, name[0] == 'f' ? 1 : 2};
    exec_in_child(&e);
    close(fd);
    return;
  }
  if (!strncmp(name, "memfd-", 6) && strcmp(name, "memfd-create") != 0) {
    int m = memfd_copy(a[0]);
    if (m < 0) return out_err(errno);
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", m);
    struct exec_arg e = {NULL, {NULL, NULL, NULL}, m, 1};
    if (!strcmp(name, "memfd-execveat")) e.how = 2;
    if (!strcmp(name, "memfd-procfd-exec")) {
      e.path = p;
      e.how = 0;
    }
    exec_in_child(&e);
    close(m);
    return;
  }
  if (!strcmp(name, "devfd-exec-memfd") || !strcmp(name, "link-exec-memfd") ||
      !strcmp(name, "hidden-self-exec-memfd")) {
    // The memfd by /dev/fd/N; through a symlink DIR/l -> /proc/self/fd/N;
    // through DIR/p -> /proc, as DIR/p/self/fd/N.
    int m = memfd_copy(a[0]);
    if (m < 0) return out_err(errno);
    char p[PATH_MAX];
    if (name[0] == 'd') {
      snprintf(p, sizeof p, "/dev/fd/%d", m);
    } else if (name[0] == 'l') {
      char target[64];
      snprintf(target, sizeof target, "/proc/self/fd/%d", m);
      snprintf(p, sizeof p, "%s/memlink", a[1]);
      unlink(p);
      if (symlink(target, p) != 0) return out_err(errno);
    } else {
      char link[PATH_MAX];
      snprintf(link, sizeof link, "%s/proclink", a[1]);
      unlink(link);
      if (symlink("/proc", link) != 0) return out_err(errno);
      snprintf(p, sizeof p, "%s/self/fd/%d", link, m);
    }
    struct exec_arg e = {p, {NULL, NULL, NULL}, -1, 0};
    exec_in_child(&e);
    close(m);
    return;
  }
  if (!strcmp(name, "mode-of-memfd")) {
    // A memfd made without flags: its mode says whether execve could run it.
    int m = memfd_create("x", 0);
    if (m < 0) return out_err(errno);
    struct stat st;
    int rc = fstat(m, &st);
    close(m);
    if (rc != 0) return out_err(errno);
    char msg[32];
    snprintf(msg, sizeof msg, "exec-bits=%o", (unsigned)(st.st_mode & 0111));
    return out_ok(msg);
  }
  if (!strcmp(name, "create-exec-memfd")) {
    int m = memfd_create("x", 0x10 /* MFD_EXEC */);
    if (m >= 0) close(m);
    return out_rc(m);
  }
  if (!strcmp(name, "open-stat-devfd") || !strcmp(name, "stat-devfd") || !strcmp(name, "open-stat-procfd") ||
      !strcmp(name, "stat-procfd")) {
    // stat("/dev/fd/N"), or "/proc/self/fd/N" for the -procfd ops: of a file
    // the guest opened, or of a number the guest never opened (the broker
    // may hold one by that number).
    int fd = name[0] == 'o' ? open(a[0], O_RDONLY) : atoi(a[0]);
    if (fd < 0) return out_err(errno);
    char p[64];
    snprintf(p, sizeof p, "%s/%d", strstr(name, "procfd") ? "/proc/self/fd" : "/dev/fd", fd);
    struct stat st;
    int rc = stat(p, &st);
    int saved = errno;
    if (name[0] == 'o') close(fd);
    if (rc != 0) return out_err(saved);
    char msg[64];
    snprintf(msg, sizeof msg, "size=%lld", (long long)st.st_size);
    return out_ok(msg);
  }
  if (!strcmp(name, "symlink-read")) {
    // DIR/l -> TARGET, then read DIR/l.
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/l", a[0]);
    unlink(p);
    if (symlink(a[1], p) != 0) return out_err(errno);
    int fd = open(p, O_RDONLY);
    if (fd < 0) return out_err(errno);
    // All of it, NULs and newlines as spaces (for /proc/PID/environ).
    char buf[8192];
    ssize_t total = 0, n;
    while (total < (ssize_t)sizeof buf - 1 && (n = read(fd, buf + total, sizeof buf - 1 - (size_t)total)) > 0) total += n;
    close(fd);
    for (ssize_t k = 0; k < total; ++k)
      if (buf[k] == 0 || buf[k] == '\n') buf[k] = ' ';
    buf[total] = 0;
    return out_ok(buf);
  }
  if (!strcmp(name, "drop-to")) {
    // Every id to N, no supplementary groups: what a server does after start.
    gid_t none[1];
    unsigned id = (unsigned)atoi(a[0]);
    if (setgroups(0, none) != 0 || setresgid(id, id, id) != 0 || setresuid(id, id, id) != 0) return out_err(errno);
    return out_ok(NULL);
  }
  if (!strcmp(name, "chmod")) return out_rc(chmod(a[0], (mode_t)strtol(a[1], NULL, 8)));
  if (!strcmp(name, "proc-broker")) {
    // The broker is the parent of our parent (the reaper).
    char p[PATH_MAX];
    snprintf(p, sizeof p, "/proc/%d/status", (int)ppid);
    FILE* f = fopen(p, "re");
    if (!f) return out_err(errno);
    int broker = -1;
    char line[256];
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "PPid: %d", &broker) == 1) break;
    fclose(f);
    snprintf(p, sizeof p, "/proc/%d/environ", broker);
    int fd;
    if (!strcmp(a[0], "opath")) {
      fd = open(p, O_PATH);
    } else if (!strcmp(a[0], "openat2") || !strcmp(a[0], "beneath-self")) {
      struct open_how how;
      memset(&how, 0, sizeof how);
      how.flags = O_RDONLY;
      int dir = AT_FDCWD;
      const char* path = p;
      if (a[0][0] == 'b') {
        dir = open("/proc", O_PATH | O_DIRECTORY);
        if (dir < 0) return out_err(errno);
        how.resolve = RESOLVE_BENEATH;
        path = "self/environ";
      }
      fd = (int)syscall(SYS_openat2, dir, path, &how, sizeof how);
    } else {
      fd = open(p, O_RDONLY);
    }
    if (fd < 0) return out_err(errno);
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) return out_err(errno);
    for (ssize_t k = 0; k < n; ++k)
      if (buf[k] == 0 || buf[k] == '\n') buf[k] = ' ';
    buf[n] = 0;
    return out_ok(buf);
  }
  if (!strcmp(name, "shmat-id") || !strcmp(name, "shm-own")) {
    int id = name[4] == 'o' ? shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600) : atoi(a[0]);
    if (id < 0) return out_err(errno);
    void* p = shmat(id, NULL, SHM_RDONLY);
    if (name[4] == 'o') shmctl(id, IPC_RMID, NULL);
    if (p == (void*)-1) return out_err(errno);
    char msg[64];
    snprintf(msg, sizeof msg, "%.40s", (const char*)p);
    shmdt(p);
    return out_ok(name[4] == 'o' ? NULL : msg);
  }
  if (!strcmp(name, "chown-same")) {
    struct stat st;
    if (stat(a[0], &st) != 0) return out_err(errno);
    return out_rc(chown(a[0], st.st_uid, st.st_gid));
  }
  if (!strcmp(name, "touch")) return out_rc(utimensat(AT_FDCWD, a[0], NULL, 0));
  if (!strcmp(name, "truncate")) return out_rc(truncate(a[0], 0));
  if (!strcmp(name, "getxattr")) {
    char value[256];
    ssize_t n = getxattr(a[0], a[1], value, sizeof value - 1);
    if (n < 0) return out_err(errno);
    value[n] = 0;
    printf("getxattr ok %s\n", value);
    return 0;
  }
  if (!strcmp(name, "open-trunc")) {  // read-only, but emptying the file
    int fd = open(a[0], O_RDONLY | O_TRUNC);
    if (fd < 0) return out_err(errno);
    close(fd);
    return out_rc(0);
  }
  if (!strcmp(name, "setxattr")) return out_rc(setxattr(a[0], a[1], "x", 1, 0));
  if (!strcmp(name, "fchmod-rw")) {
    int fd = open(a[0], O_RDWR);
    if (fd < 0) return out_err(errno);
    int rc = fchmod(fd, (mode_t)strtol(a[1], NULL, 8));
    int saved = errno;
    close(fd);
    errno = saved;
    return out_rc(rc);
  }
  if (!strcmp(name, "stat")) {
    struct stat st;
    if (stat(a[0], &st) != 0) return out_err(errno);
    char msg[64];
    snprintf(msg, sizeof msg, "size=%lld", (long long)st.st_size);
    return out_ok(msg);
  }
  if (!strcmp(name, "unix-connect")) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0) return out_err(errno);
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", a[0]);
    int rc = connect(s, (struct sockaddr*)&sun, sizeof sun);
    int saved = errno;
    if (rc == 0) {
      char c;
      (void)!read(s, &c, 1);  // until the server has looked at us
    }
    close(s);
    errno = saved;
    return out_rc(rc);
  }
  if (!strcmp(name, "bind-tcp")) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return out_err(errno);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)atoi(a[0]));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = bind(s, (struct sockaddr*)&sin, sizeof sin);
    int saved = errno;
    close(s);
    errno = saved;
    return out_rc(rc);
  }
  if (!strcmp(name, "cap-sets")) {
    // Every capability set, as hex masks.
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) != 0) return out_err(errno);
    unsigned long long eff = d[0].effective | ((unsigned long long)d[1].effective << 32);
    unsigned long long prm = d[0].permitted | ((unsigned long long)d[1].permitted << 32);
    unsigned long long inh = d[0].inheritable | ((unsigned long long)d[1].inheritable << 32);
    unsigned long long bnd = 0, amb = 0;
    for (int cap = 0; cap < 64; ++cap) {
      if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) bnd |= 1ULL << cap;
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1) amb |= 1ULL << cap;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "eff=%llx prm=%llx inh=%llx bnd=%llx amb=%llx", eff, prm, inh, bnd, amb);
    return out_ok(msg);
  }
  if (!strcmp(name, "memfd-create")) {
    int m = memfd_create("x", 0);
    if (m >= 0) close(m);
    return out_rc(m);
  }
  if (!strcmp(name, "x32-open") || !strcmp(name, "x32-openat") || !strcmp(name, "i386-open") ||
      !strcmp(name, "i386-openat")) {
    struct abi_arg f = {a[0], name[0] == 'x' ? 0 : 2};
    if (strstr(name, "openat")) f.kind += 1;
    return in_child(do_foreign_open, &f);
  }
  if (!strcmp(name, "unshare-user")) return out_rc(unshare(CLONE_NEWUSER));
  if (!strcmp(name, "unshare-ns")) return out_rc(unshare(CLONE_NEWNS));
  if (!strcmp(name, "clone-newns") || !strcmp(name, "clone-newuser")) {
    // Raw clone: fork semantics (no new stack), the child exits at once.
    long flags = (name[9] == 'n' ? CLONE_NEWNS : CLONE_NEWUSER) | SIGCHLD;
    fflush(stdout);
    long pid = syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return out_rc(pid);
  }
  if (!strcmp(name, "clone3")) {
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_NEWNS;
    ca.exit_signal = SIGCHLD;
    fflush(stdout);
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return out_rc(pid);
  }
  if (!strcmp(name, "setns")) return out_rc(setns(0, CLONE_NEWNS));
  if (!strcmp(name, "ptrace-attach-parent")) return out_rc(ptrace(PTRACE_ATTACH, ppid, NULL, NULL));
  if (!strcmp(name, "ptrace-traceme")) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 ? 0 : errno);
    int status = 0;
    waitpid(pid, &status, 0);
    int e = WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
    if (e) return out_err(e);
    return out_ok(NULL);
  }
  if (!strcmp(name, "vm-readv-parent") || !strcmp(name, "vm-writev-parent")) {
    char buf[64] = {0};
    struct iovec local = {buf, sizeof buf};
    // Any address: the filter refuses before the kernel looks at it.
    struct iovec remote = {(void*)0x400000, sizeof buf};
    long rc = name[3] == 'r' ? process_vm_readv(ppid, &local, 1, &remote, 1, 0)
                             : process_vm_writev(ppid, &local, 1, &remote, 1, 0);
    return out_rc(rc);
  }
  if (!strcmp(name, "kcmp-parent")) return out_rc(syscall(SYS_kcmp, getpid(), ppid, 0 /* KCMP_FILE */, 0, 0));
  if (!strcmp(name, "pidfd-open-parent")) {
    long fd = syscall(SYS_pidfd_open, ppid, 0);
    if (fd >= 0) close((int)fd);
    return out_rc(fd);
  }
  if (!strcmp(name, "pidfd-getfd-self")) {
    long pfd = syscall(SYS_pidfd_open, getpid(), 0);
    if (pfd < 0) return out_err(errno);
    long fd = syscall(SYS_pidfd_getfd, pfd, 1, 0);
    int saved = errno;
    close((int)pfd);
    if (fd >= 0) close((int)fd);
    errno = saved;
    return out_rc(fd);
  }
  if (!strcmp(name, "mount")) return out_rc(mount("none", "/tmp", "tmpfs", 0, NULL));
  if (!strcmp(name, "umount")) return out_rc(umount2("/proc", MNT_DETACH));
  if (!strcmp(name, "chroot")) return out_rc(chroot("/tmp"));
  if (!strcmp(name, "pivot-root")) return out_rc(syscall(SYS_pivot_root, "/tmp", "/tmp"));
  if (!strcmp(name, "bpf")) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
    if (fd >= 0) close((int)fd);
    return out_rc(fd);
  }
  if (!strcmp(name, "perf-event-open")) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (fd >= 0) close((int)fd);
    return out_rc(fd);
  }
  if (!strcmp(name, "userfaultfd")) {
    long fd = syscall(SYS_userfaultfd, O_CLOEXEC);
    if (fd >= 0) close((int)fd);
    return out_rc(fd);
  }
  if (!strcmp(name, "keyctl"))
    return out_rc(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
  if (!strcmp(name, "add-key"))
    return out_rc(syscall(SYS_add_key, "user", "wwjail", "v", 1, KEY_SPEC_PROCESS_KEYRING));
  if (!strcmp(name, "seccomp-listener") || !strcmp(name, "seccomp-filter")) {
    // An allow-everything filter: harmless on its own, so the only reason
    // to refuse it is the listener flag.
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog prog = {1, allow};
    unsigned flags = name[8] == 'l' ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (fd > 0 && flags) close((int)fd);
    return out_rc(fd);
  }
  if (!strcmp(name, "tiocsti")) {
    char c = '\n';
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
    long rc = ioctl(fd >= 0 ? fd : 0, TIOCSTI, &c);
    int saved = errno;
    if (fd >= 0) close(fd);
    errno = saved;
    return out_rc(rc);
  }
  if (!strcmp(name, "ioctl-fionread")) {
    // An ordinary ioctl on the guest's own pipe: the positive control for tiocsti.
    int p[2];
    if (pipe(p) != 0) return out_err(errno);
    (void)!write(p[1], "abc", 3);
    int avail = -1;
    long rc = ioctl(p[0], FIONREAD, &avail);
    int saved = errno;
    close(p[0]);
    close(p[1]);
    if (rc < 0) return out_err(saved);
    char msg[32];
    snprintf(msg, sizeof msg, "avail=%d", avail);
    return out_ok(msg);
  }
  if (!strcmp(name, "kill-parent")) return out_rc(kill(ppid, 0));
  if (!strcmp(name, "kill-all")) return out_rc(kill(-1, 0));
  if (!strcmp(name, "kill-parent-group")) {
    pid_t g = getpgid(ppid);
    if (g < 0) return out_err(errno);
    return out_rc(kill(-g, 0));
  }
  if (!strcmp(name, "tgkill-parent")) return out_rc(syscall(SYS_tgkill, ppid, ppid, 0));
  if (!strcmp(name, "kill-self")) return out_rc(kill(getpid(), 0));
  if (!strcmp(name, "kill-pid")) return out_rc(kill((pid_t)atoi(a[0]), atoi(a[1])));
  if (!strcmp(name, "fork-wait")) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return out_err(errno);
    if (pid == 0) _exit(7);
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) return out_err(errno);
    char msg[32];
    snprintf(msg, sizeof msg, "status=%d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return out_ok(msg);
  }
  if (!strcmp(name, "pthread")) {
    pthread_t t;
    int rc = pthread_create(&t, NULL, thread_fn, (void*)42);
    if (rc) return out_err(rc);
    void* res = NULL;
    pthread_join(t, &res);
    return out_ok(res == (void*)42 ? "joined" : "bad-join");
  }
  if (!strcmp(name, "personality-rie")) return out_rc(personality(PER_LINUX | READ_IMPLIES_EXEC));
  printf("%s usage\n", name);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int i = 1;
  while (i < argc) {
    const struct op* found = NULL;
    for (size_t k = 0; k < sizeof kOps / sizeof kOps[0]; ++k)
      if (!strcmp(kOps[k].name, argv[i])) found = &kOps[k];
    if (!found || i + found->nargs > argc - 1) {
      printf("%s usage\n", argv[i]);
      return 2;
    }
    run_op(found->name, argv + i + 1);
    i += 1 + found->nargs;
  }
  fflush(stdout);
  return 0;
}
