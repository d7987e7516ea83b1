/* wasi_probe: one access per run, built twice from this file: natively
 * (gcc) and for wasm32-wasi (clang-14 + wasi-libc). The tests run both
 * under wwjail with the same arguments and expect the same answers where
 * the behaviour should match. Prints "ok [data]" and exits 0, or
 * "err ENAME" and exits 1; usage errors exit 2.
 *
 *   read PATH | write PATH TEXT | append PATH TEXT | mkdir PATH | rmdir PATH
 *   unlink PATH | rename FROM TO | symlink TARGET PATH | readlink PATH
 *   stat PATH | lstat PATH | list DIR | truncate PATH N | utimes PATH
 *   link FROM TO | env NAME | args | exit N | clock | random N | sleep MS
 *   seek-tell PATH | pread PATH OFF N | echo-accept FD   (accept one, echo a line)
 *   alloc MIB          (malloc and touch; "ok failed" when malloc says no)
 *   misc PATH          fadvise, fallocate, fdatasync, fsync, O_APPEND|O_NONBLOCK via fcntl,
 *                      poll for reading, sched_yield, on a file it creates
 *   many DIR N         creates N files in DIR, then counts them with readdir
 *   renumber A B       fd_renumber (dup2 natively) of A's descriptor onto B's, then reads B's
 *   raise SIG          raise(SIG) natively, proc_raise(SIG) in WASI (the same numbers for
 *                      HUP..TERM)
 *   dir-seek DIR       lseek(SEEK_CUR), then SEEK_SET, of an open directory
 *   rights PATH        (WASI only) fdstat rights of PATH about seeking and sizes, and
 *                      whether fd_fdstat_set_rights narrows them
 *   huge-path MIB      (WASI only) path_open of a MIB-mebibyte path, its length given
 *   trap-unreachable | trap-oob | trap-div0 | trap-stack
 */
#include <dirent.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __wasi__
#include <wasi/api.h>
/* Deprecated in preview 1 and gone from wasi-libc's headers, but still a
 * host call every runtime must answer. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise"))) int wasi_proc_raise(int sig);
/* Host calls wasi-libc has no wrapper for. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_renumber"))) int wasi_fd_renumber(int from, int to);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_fdstat_set_rights")))
int wasi_fd_fdstat_set_rights(int fd, unsigned long long base, unsigned long long inheriting);
/* path_open with the length given, not taken with strlen. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")))
int wasi_path_open(int fd, int dirflags, const char* path, unsigned long len, int oflags, unsigned long long rights,
                   unsigned long long inheriting, int fdflags, int* out);
#endif

static const char* errname(int e) {
  switch (e) {
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ELOOP: return "ELOOP";
    case EXDEV: return "EXDEV";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOTSUP: return "ENOTSUP";
#ifdef ENOTCAPABLE
    case ENOTCAPABLE: return "ENOTCAPABLE";
#endif
    default: return "EOTHER";
  }
}

static int fail(void) {
  printf("err %s\n", errname(errno));
  return 1;
}

static int ok(const char* data) {
  printf("ok%s%s\n", data ? " " : "", data ? data : "");
  return 0;
}

static volatile int zero = 0;
static int recurse(int n) { return n <= 0 ? 0 : recurse(n + 1) + recurse(n - 1) + 1; }

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* op = argv[1];
  const char* a = argc > 2 ? argv[2] : NULL;
  const char* b = argc > 3 ? argv[3] : NULL;
#define NEED(n) if (argc < 2 + (n)) return 2
  if (!strcmp(op, "read")) {
    NEED(1);
    int fd = open(a, O_RDONLY);
    if (fd < 0) return fail();
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0) return fail();
    buf[n] = 0;
    if (n && buf[n - 1] == '\n') buf[n - 1] = 0;
    close(fd);
    return ok(buf);
  }
  if (!strcmp(op, "write") || !strcmp(op, "append")) {
    NEED(2);
    int fd = open(a, O_WRONLY | O_CREAT | (op[0] == 'a' ? O_APPEND : O_TRUNC), 0644);
    if (fd < 0) return fail();
    if (write(fd, b, strlen(b)) != (ssize_t)strlen(b)) return fail();
    close(fd);
    return ok(NULL);
  }
  if (!strcmp(op, "mkdir")) { NEED(1); return mkdir(a, 0755) ? fail() : ok(NULL); }
  if (!strcmp(op, "rmdir")) { NEED(1); return rmdir(a) ? fail() : ok(NULL); }
  if (!strcmp(op, "unlink")) { NEED(1); return unlink(a) ? fail() : ok(NULL); }
  if (!strcmp(op, "rename")) { NEED(2); return rename(a, b) ? fail() : ok(NULL); }
  if (!strcmp(op, "link")) { NEED(2); return link(a, b) ? fail() : ok(NULL); }
  if (!strcmp(op, "symlink")) { NEED(2); return symlink(a, b) ? fail() : ok(NULL); }
  if (!strcmp(op, "readlink")) {
    NEED(1);
    char buf[256];
    ssize_t n = readlink(a, buf, sizeof buf - 1);
    if (n < 0) return fail();
    buf[n] = 0;
    return ok(buf);
  }
  if (!strcmp(op, "stat") || !strcmp(op, "lstat")) {
    NEED(1);
    struct stat st;
    if ((op[0] == 's' ? stat(a, &st) : lstat(a, &st)) != 0) return fail();
    char buf[64];
    snprintf(buf, sizeof buf, "size=%lld %s", (long long)st.st_size,
             S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "link" : S_ISREG(st.st_mode) ? "file" : "other");
    return ok(buf);
  }
  if (!strcmp(op, "list")) {
    NEED(1);
    DIR* d = opendir(a);
    if (!d) return fail();
    char names[1024] = "";
    struct dirent* de;
    /* sorted output is the test's job: print them as they come, space-separated */
    while ((de = readdir(d))) {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
      if (strlen(names) + strlen(de->d_name) + 2 < sizeof names) {
        strcat(names, " ");
        strcat(names, de->d_name);
      }
    }
    closedir(d);
    return ok(names[0] ? names + 1 : "");
  }
  if (!strcmp(op, "truncate")) { NEED(2); return truncate(a, atol(b)) ? fail() : ok(NULL); }
  if (!strcmp(op, "utimes")) {
    NEED(1);
    struct timespec ts[2] = {{1000000, 0}, {2000000, 0}};
    if (utimensat(AT_FDCWD, a, ts, 0)) return fail();
    struct stat st;
    if (stat(a, &st)) return fail();
    char buf[32];
    snprintf(buf, sizeof buf, "mtime=%lld", (long long)st.st_mtime);
    return ok(buf);
  }
  if (!strcmp(op, "seek-tell")) {
    NEED(1);
    int fd = open(a, O_RDONLY);
    if (fd < 0) return fail();
    off_t end = lseek(fd, 0, SEEK_END);
    lseek(fd, 2, SEEK_SET);
    char buf[32];
    snprintf(buf, sizeof buf, "end=%lld at=%lld", (long long)end, (long long)lseek(fd, 0, SEEK_CUR));
    return ok(buf);
  }
  if (!strcmp(op, "pread")) {
    NEED(3);
    int fd = open(a, O_RDONLY);
    if (fd < 0) return fail();
    char buf[64] = "";
    ssize_t n = pread(fd, buf, (size_t)atoi(argv[4]), atol(b));
    if (n < 0) return fail();
    buf[n] = 0;
    return ok(buf);
  }
  if (!strcmp(op, "accmode")) {
    /* What fcntl(F_GETFL) says of a file opened read-only and write-only. */
    NEED(1);
    int r = open(a, O_RDONLY), w = open(a, O_WRONLY);
    if (r < 0 || w < 0) return fail();
    int fr = fcntl(r, F_GETFL) & O_ACCMODE, fw = fcntl(w, F_GETFL) & O_ACCMODE;
    return ok(fr == O_RDONLY && fw == O_WRONLY ? "ro wo" : "mismatch");
  }
  if (!strcmp(op, "env")) { NEED(1); const char* v = getenv(a); return ok(v ? v : "(unset)"); }
  if (!strcmp(op, "args")) {
    char buf[256] = "";
    for (int i = 2; i < argc; ++i) {
      strcat(buf, argv[i]);
      if (i + 1 < argc) strcat(buf, "|");
    }
    return ok(buf);
  }
  if (!strcmp(op, "exit")) { NEED(1); exit(atoi(a)); }
  if (!strcmp(op, "clock")) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    return (t1.tv_sec > t0.tv_sec || (t1.tv_sec == t0.tv_sec && t1.tv_nsec >= t0.tv_nsec)) && rt.tv_sec > 1600000000
               ? ok(NULL) : fail();
  }
  if (!strcmp(op, "random")) {
    NEED(1);
    unsigned char buf[64] = {0};
    int n = atoi(a);
    if (getentropy(buf, (size_t)n)) return fail();
    int nonzero = 0;
    for (int i = 0; i < n; ++i) nonzero |= buf[i];
    return nonzero ? ok(NULL) : fail();
  }
  if (!strcmp(op, "sleep")) {
    NEED(1);
    struct timespec t0, t1, d = {0, atoi(a) * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    return ms >= atoi(a) ? ok(NULL) : fail();
  }
  if (!strcmp(op, "echo-accept")) {
    NEED(1);
    int c = accept(atoi(a), NULL, NULL);
    if (c < 0) return fail();
    char buf[128];
    ssize_t n = recv(c, buf, sizeof buf, 0);
    if (n <= 0) return fail();
    if (send(c, buf, (size_t)n, 0) != n) return fail();
    shutdown(c, SHUT_RDWR);
    return ok(NULL);
  }
  if (!strcmp(op, "alloc")) {
    NEED(1);
    size_t n = (size_t)atoi(a) << 20;
    char* volatile p = malloc(n);  /* volatile: the allocation must really happen */
    if (!p) return ok("failed");
    memset(p, 1, n);
    return ok(p[n - 1] == 1 ? "allocated" : "corrupt");
  }
  if (!strcmp(op, "misc")) {
    NEED(1);
    int fd = open(a, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return fail();
    if (posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)) return fail();
    int e = posix_fallocate(fd, 0, 4096);
    if (e) { errno = e; return fail(); }
    if (fdatasync(fd) || fsync(fd)) return fail();
    if (pwrite(fd, "xy", 2, 10) != 2) return fail();
    char two[3] = "";
    if (pread(fd, two, 2, 10) != 2 || strcmp(two, "xy")) { errno = EINVAL; return fail(); }
    if (fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK)) return fail();
    int fl = fcntl(fd, F_GETFL);
    if (!(fl & O_APPEND) || !(fl & O_NONBLOCK)) { errno = EINVAL; return fail(); }
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 1000) != 1 || !(p.revents & POLLIN)) { errno = EINVAL; return fail(); }
    if (sched_yield()) return fail();
    struct stat st;
    if (fstat(fd, &st) || st.st_size != 4096) { errno = EINVAL; return fail(); }
    struct timespec ts[2] = {{3000000, 0}, {4000000, 0}};
    if (futimens(fd, ts) || fstat(fd, &st) || st.st_mtime != 4000000) { errno = EINVAL; return fail(); }
    struct timespec res;
    if (clock_getres(CLOCK_MONOTONIC, &res) || (res.tv_sec == 0 && res.tv_nsec == 0)) { errno = EINVAL; return fail(); }
    return ok(NULL);
  }
  if (!strcmp(op, "errors")) {
    /* The errno each failing call gives, in one line: native and wasm must agree. */
    NEED(1);
    char out[512] = "", path[256];
    char one[16];
#define NOTE(label, expr)                                   \
  do {                                                      \
    errno = 0;                                              \
    int failed_ = (expr) < 0;                               \
    snprintf(one, sizeof one, "%s", failed_ ? errname(errno) : "none"); \
    strcat(out, label "=");                                 \
    strcat(out, one);                                       \
    strcat(out, " ");                                       \
  } while (0)
    int fd = open(a, O_RDONLY | O_DIRECTORY);
    close(fd);
    char c;
    struct stat st;
    NOTE("read-closed", read(fd, &c, 1));
    NOTE("fstat-closed", fstat(fd, &st));
    snprintf(path, sizeof path, "%s/f", a);
    int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    NOTE("seek-whence", lseek(f, 0, 42));
    snprintf(path, sizeof path, "%s/missing", a);
    NOTE("open-missing", open(path, O_RDONLY));
    snprintf(path, sizeof path, "%s/f/below", a);
    NOTE("open-below-file", open(path, O_RDONLY));
    snprintf(path, sizeof path, "%s/sub", a);
    mkdir(path, 0755);
    NOTE("unlink-dir", unlink(path));
    NOTE("mkdir-existing", mkdir(path, 0755));
    snprintf(path, sizeof path, "%s/f/", a);
    NOTE("unlink-file-slash", unlink(path));
    snprintf(path, sizeof path, "%s/f", a);
    NOTE("rmdir-file", rmdir(path));
    NOTE("excl-existing", open(path, O_WRONLY | O_CREAT | O_EXCL, 0644));
    NOTE("dir-for-writing", open(a, O_WRONLY));
    out[strlen(out) - 1] = 0;
    return ok(out);
  }
  if (!strcmp(op, "many")) {
    NEED(2);
    int n = atoi(b);
    char path[512];
    for (int i = 0; i < n; ++i) {
      snprintf(path, sizeof path, "%s/file-with-a-longish-name-%04d", a, i);
      int fd = open(path, O_WRONLY | O_CREAT, 0644);
      if (fd < 0) return fail();
      close(fd);
    }
    DIR* d = opendir(a);
    if (!d) return fail();
    int count = 0;
    struct dirent* de;
    while ((de = readdir(d))) count += strncmp(de->d_name, "file-with", 9) == 0;
    closedir(d);
    snprintf(path, sizeof path, "count=%d", count);
    return ok(path);
  }
  if (!strcmp(op, "renumber")) {
    /* Opens A and B, moves A's descriptor onto B's, reads through B's. */
    NEED(2);
    int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
    if (fa < 0 || fb < 0) return fail();
#ifdef __wasi__
    int e = wasi_fd_renumber(fa, fb);
    if (e) { printf("err wasi-%d\n", e); return 1; }
    if (wasi_fd_fdstat_set_rights(fb, ~0ull, ~0ull) == 8) { printf("err set_rights: EBADF\n"); return 1; }
    if (wasi_fd_renumber(fa, fb) != 8) { printf("err renumbered a closed fd\n"); return 1; }  /* EBADF */
#else
    if (dup2(fa, fb) < 0) return fail();
    close(fa);
#endif
    char buf[64] = "";
    ssize_t n = read(fb, buf, sizeof buf - 1);
    if (n < 0) return fail();
    buf[n] = 0;
    if (n && buf[n - 1] == '\n') buf[n - 1] = 0;
    return ok(buf);
  }
  if (!strcmp(op, "raise")) {
    NEED(1);
#ifdef __wasi__
    /* wasi-libc's raise() emulates signals inside the module; the host
     * call is proc_raise. */
    int e = wasi_proc_raise(atoi(a));
    if (e) {
      errno = e;
      return fail();
    }
#else
    raise(atoi(a));
#endif
    return ok("survived");
  }
  if (!strcmp(op, "dir-seek")) {
    /* lseek and tell (SEEK_CUR) of an open directory. */
    NEED(1);
    int fd = open(a, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return fail();
    return lseek(fd, 0, SEEK_CUR) < 0 || lseek(fd, 0, SEEK_SET) < 0 ? fail() : ok("seeked");
  }
  if (!strcmp(op, "rights")) {
    /* The rights fd_fdstat_get reports of PATH (a file or a directory) that
     * concern seeking and sizes, then whether fd_fdstat_set_rights can
     * narrow them. */
    NEED(1);
#ifdef __wasi__
    int fd = open(a, O_RDONLY);
    if (fd < 0) return fail();
    __wasi_fdstat_t st;
    if (__wasi_fd_fdstat_get(fd, &st)) return fail();
    char out[160];
    __wasi_rights_t r = st.fs_rights_base;
    int e = wasi_fd_fdstat_set_rights(fd, r & ~__WASI_RIGHTS_FD_SEEK, st.fs_rights_inheriting);
    snprintf(out, sizeof out, "seek=%d tell=%d set_size=%d path_set_size=%d narrow=%s",
             !!(r & __WASI_RIGHTS_FD_SEEK), !!(r & __WASI_RIGHTS_FD_TELL), !!(r & __WASI_RIGHTS_FD_FILESTAT_SET_SIZE),
             !!(r & __WASI_RIGHTS_PATH_FILESTAT_SET_SIZE), e == 0 ? "ok" : e == __WASI_ERRNO_NOTSUP ? "ENOTSUP" : "other");
    return ok(out);
#else
    return 2;
#endif
  }
  if (!strcmp(op, "huge-path")) {
    NEED(1);
#ifdef __wasi__
    /* A path of MIB mebibytes (untouched zero pages) passed to path_open
     * beneath the first preopen. */
    unsigned long len = strtoul(a, NULL, 10) << 20;
    char* path = malloc(len);
    if (!path) return ok("no memory");
    int fd = -1;
    int e = wasi_path_open(3, 0, path, len, 0, 0, 0, 0, &fd);
    if (e) {
      errno = e;
      return fail();
    }
    return ok("opened");
#else
    return 2;
#endif
  }
  if (!strcmp(op, "trap-unreachable")) __builtin_trap();
  if (!strcmp(op, "trap-oob")) { volatile char* p = (volatile char*)0xfffffff0u; return *p; }
  if (!strcmp(op, "trap-div0")) { return 10 / zero; }
  if (!strcmp(op, "trap-stack")) { return recurse(1); }
  return 2;
}
