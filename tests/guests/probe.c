// probe: a tiny guest that really attempts one access and reports what the
// kernel (through wwjail) answered. Prints "ok" (plus any data) and exits 0,
// or prints "err NAME" (the errno's symbolic name) and exits 1; usage errors
// exit 2. Integration tests run it inside and outside the jail.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/sysmacros.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char* errname(int e) {
  switch (e) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EFAULT: return "EFAULT";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ELOOP: return "ELOOP";
    case EXDEV: return "EXDEV";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EBUSY: return "EBUSY";
    case ENODATA: return "ENODATA";
    case ESRCH: return "ESRCH";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EROFS: return "EROFS";
    default: return "EOTHER";
  }
}

static int report(int rc) {
  if (rc < 0) {
    printf("err %s\n", errname(errno));
    return 1;
  }
  printf("ok\n");
  return 0;
}

static int read_fd(int fd) {
  if (fd < 0) return report(-1);
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  int saved = errno;
  close(fd);
  if (n < 0) {
    errno = saved;
    return report(-1);
  }
  buf[n] = 0;
  printf("ok %s\n", buf);
  return 0;
}

static int write_fd(int fd) {
  if (fd < 0) return report(-1);
  ssize_t n = write(fd, "x", 1);
  int saved = errno;
  close(fd);
  errno = saved;
  return report(n == 1 ? 0 : -1);
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* op = argv[1];
  const char* a = argc > 2 ? argv[2] : NULL;
  const char* b = argc > 3 ? argv[3] : NULL;
#define NEED(n) if (argc < 2 + (n)) return 2
  if (!strcmp(op, "read")) { NEED(1); return read_fd(open(a, O_RDONLY)); }
  if (!strcmp(op, "read-nofollow")) { NEED(1); return read_fd(open(a, O_RDONLY | O_NOFOLLOW)); }
  if (!strcmp(op, "write")) { NEED(1); return write_fd(open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644)); }
  if (!strcmp(op, "write-existing")) { NEED(1); return write_fd(open(a, O_WRONLY)); }
  if (!strcmp(op, "create-excl")) { NEED(1); return write_fd(open(a, O_WRONLY | O_CREAT | O_EXCL, 0600)); }
  if (!strcmp(op, "trunc-rdonly")) { NEED(1); int fd = open(a, O_RDONLY | O_TRUNC); if (fd >= 0) close(fd); return report(fd); }
  if (!strcmp(op, "creat")) { NEED(1); return write_fd(creat(a, 0644)); }
  if (!strcmp(op, "openat2-excl")) {
    /* O_CREAT|O_EXCL beneath the cwd (RESOLVE_BENEATH): EEXIST when present. */
    NEED(1);
    struct open_how how = {.flags = O_WRONLY | O_CREAT | O_EXCL, .mode = 0644, .resolve = RESOLVE_BENEATH};
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, a, &how, sizeof how);
    if (fd >= 0) close(fd);
    return report(fd);
  }
  if (!strcmp(op, "openat2")) {
    NEED(1);
    struct open_how how = {.flags = O_RDONLY};
    if (b) how.resolve = strtoull(b, NULL, 0);
    return read_fd((int)syscall(SYS_openat2, AT_FDCWD, a, &how, sizeof how));
  }
  if (!strcmp(op, "openat")) { NEED(2); int d = open(a, O_RDONLY | O_DIRECTORY); if (d < 0) return report(-1); return read_fd(openat(d, b, O_RDONLY)); }
  if (!strcmp(op, "chdir-read")) { NEED(2); if (chdir(a) != 0) return report(-1); return read_fd(open(b, O_RDONLY)); }
  if (!strcmp(op, "chdir")) { NEED(1); return report(chdir(a)); }
  if (!strcmp(op, "fchdir-read")) {
    NEED(2);
    int d = open(a, O_PATH | O_DIRECTORY);
    if (d < 0 || fchdir(d) != 0) return report(-1);
    return read_fd(open(b, O_RDONLY));
  }
  if (!strcmp(op, "opath-reopen")) {
    NEED(1);
    int fd = open(a, O_PATH);
    if (fd < 0) return report(-1);
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    return write_fd(open(p, O_WRONLY));
  }
  if (!strcmp(op, "stat")) { NEED(1); struct stat st; int rc = stat(a, &st); if (!rc) { printf("ok size=%lld\n", (long long)st.st_size); return 0; } return report(rc); }
  if (!strcmp(op, "lstat")) { NEED(1); struct stat st; int rc = lstat(a, &st); if (!rc) { printf("ok link=%d\n", S_ISLNK(st.st_mode)); return 0; } return report(rc); }
  if (!strcmp(op, "statx")) { NEED(1); struct statx sx; int rc = statx(AT_FDCWD, a, 0, STATX_SIZE, &sx); if (!rc) { printf("ok size=%llu\n", (unsigned long long)sx.stx_size); return 0; } return report(rc); }
  if (!strcmp(op, "fstat")) { NEED(1); int fd = open(a, O_RDONLY); if (fd < 0) return report(-1); struct stat st; int rc = fstat(fd, &st); if (!rc) { printf("ok size=%lld\n", (long long)st.st_size); return 0; } return report(rc); }
  if (!strcmp(op, "statfs")) { NEED(1); struct statfs s; return report(statfs(a, &s)); }
  if (!strcmp(op, "access")) {
    NEED(2);
    int mode = 0;
    for (const char* c = b; *c; ++c) mode |= *c == 'r' ? R_OK : *c == 'w' ? W_OK : *c == 'x' ? X_OK : 0;
    return report(access(a, mode));
  }
  if (!strcmp(op, "readlink")) { NEED(1); char buf[4096]; ssize_t n = readlink(a, buf, sizeof buf - 1); if (n < 0) return report(-1); buf[n] = 0; printf("ok %s\n", buf); return 0; }
  if (!strcmp(op, "readdir")) {
    NEED(1);
    DIR* d = opendir(a);
    if (!d) return report(-1);
    int count = 0;
    while (readdir(d)) ++count;
    closedir(d);
    printf("ok entries=%d\n", count);
    return 0;
  }
  if (!strcmp(op, "mkdir")) { NEED(1); return report(mkdir(a, 0755)); }
  if (!strcmp(op, "rmdir")) { NEED(1); return report(rmdir(a)); }
  if (!strcmp(op, "unlink")) { NEED(1); return report(unlink(a)); }
  if (!strcmp(op, "rename")) { NEED(2); return report(rename(a, b)); }
  if (!strcmp(op, "link")) { NEED(2); return report(link(a, b)); }
  if (!strcmp(op, "symlink")) { NEED(2); return report(symlink(a, b)); }
  if (!strcmp(op, "chmod")) { NEED(1); return report(chmod(a, 0600)); }
  if (!strcmp(op, "fchmod")) { NEED(1); int fd = open(a, O_RDONLY); if (fd < 0) return report(-1); return report(fchmod(fd, 0600)); }
  if (!strcmp(op, "chown")) { NEED(1); return report(chown(a, getuid(), getgid())); }
  if (!strcmp(op, "truncate")) { NEED(1); return report(truncate(a, 0)); }
  if (!strcmp(op, "utimes")) { NEED(1); return report(utimensat(AT_FDCWD, a, NULL, 0)); }
  if (!strcmp(op, "setxattr")) { NEED(1); return report(setxattr(a, "user.wwjail", "v", 1, 0)); }
  if (!strcmp(op, "getxattr")) { NEED(1); char v[64]; ssize_t n = getxattr(a, "user.wwjail", v, sizeof v); return report(n < 0 ? -1 : 0); }
  if (!strcmp(op, "listxattr")) { NEED(1); char v[256]; return report(listxattr(a, v, sizeof v) < 0 ? -1 : 0); }
  if (!strcmp(op, "mkfifo")) { NEED(1); return report(mknod(a, S_IFIFO | 0600, 0)); }
  if (!strcmp(op, "mknod-chr")) { NEED(1); return report(mknod(a, S_IFCHR | 0600, makedev(1, 3))); }
  if (!strcmp(op, "inotify")) { NEED(1); int fd = inotify_init1(IN_CLOEXEC); if (fd < 0) return report(-1); return report(inotify_add_watch(fd, a, IN_MODIFY)); }
  if (!strcmp(op, "tmpfile-link")) {
    NEED(2);
    int fd = open(a, O_TMPFILE | O_WRONLY, 0600);
    if (fd < 0) return report(-1);
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    return report(linkat(AT_FDCWD, p, AT_FDCWD, b, AT_SYMLINK_FOLLOW));
  }
  if (!strcmp(op, "tmpfile-linkat-empty")) {
    NEED(2);
    int fd = open(a, O_TMPFILE | O_WRONLY, 0600);
    if (fd < 0) return report(-1);
    return report(linkat(fd, "", AT_FDCWD, b, AT_EMPTY_PATH));
  }
  if (!strcmp(op, "exec")) { NEED(1); execv(a, argv + 2); return report(-1); }
  if (!strcmp(op, "kill")) { NEED(1); return report(kill((pid_t)atoi(a), 0)); }
  if (!strcmp(op, "kill-parent")) { return report(kill(getppid(), SIGCONT)); }
  if (!strcmp(op, "bad-pointer")) { return report((int)syscall(SYS_openat, AT_FDCWD, (const char*)8, O_RDONLY)); }
  if (!strcmp(op, "long-path")) {
    size_t n = 8192;
    char* p = malloc(n + 1);
    memset(p, 'a', n);
    p[0] = '/';
    p[n] = 0;
    return report(open(p, O_RDONLY));
  }
  if (!strcmp(op, "socket")) {
    NEED(2);
    int fd = socket(atoi(a), atoi(b), argc > 4 ? atoi(argv[4]) : 0);
    if (fd >= 0) close(fd);
    return report(fd);
  }
  if (!strcmp(op, "env")) { NEED(1); const char* v = getenv(a); printf("ok %s\n", v ? v : "(unset)"); return 0; }
  if (!strcmp(op, "exit")) { NEED(1); return atoi(a); }
  if (!strcmp(op, "signal")) { NEED(1); raise(atoi(a)); return 3; }
  if (!strcmp(op, "sleep")) { NEED(1); sleep((unsigned)atoi(a)); printf("ok\n"); return 0; }
  return 2;
}
