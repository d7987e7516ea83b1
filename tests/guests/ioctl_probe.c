// Tries ioctl commands and prints one line per operation:
//   "<op> ok[ detail]" or "<op> err <ERRNO>".
// Operations (each a word, some followed by a path):
//   setflags-immutable FILE, setflags-append FILE   FS_IOC_SETFLAGS adding +i / +a
//   setflags-high FILE      the same +i, with garbage in the command's upper 32 bits
//   setversion FILE         FS_IOC_SETVERSION to the current generation + 1
//   freeze                  FIFREEZE on a pipe (never on a real filesystem: a
//                           jail that let it through would hang the host)
//   getflags FILE           FS_IOC_GETFLAGS (prints the flags in hex)
//   tcgets-null             TCGETS on /dev/null (the kernel answers ENOTTY)
//   tcgets-null-high        the same with garbage in the upper bits
//   isatty-null             isatty(/dev/null): "ok 0 ENOTTY" expected
//   pty                     posix_openpt, unlockpt, ptsname, TCGETS and
//                           TIOCGWINSZ/TIOCSWINSZ on the master
//   fionread, fionbio, fioclex   on a pipe
//   siocgifconf, siocgifindex    on an AF_INET datagram socket
// A change that succeeds is undone at once (the original flags restored),
// so a failing jail leaves no immutable file behind.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char* op;

static const char* errname(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOTTY: return "ENOTTY";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EROFS: return "EROFS";
    default: return strerrorname_np(e) ? strerrorname_np(e) : "E?";
  }
}

static void err(int e) { printf("%s err %s\n", op, errname(e)); }

static long raw_ioctl(int fd, uint64_t cmd, void* arg) { return syscall(SYS_ioctl, fd, cmd, arg); }

// Adds `flag` to FILE's inode flags through `cmd` (FS_IOC_SETFLAGS, maybe
// with upper bits); restores the old flags if the kernel accepted it.
static void setflags(const char* path, int flag, uint64_t cmd) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return err(errno);
  int flags = 0;  // the kernel reads and writes an int, despite the "long" in the macro
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
    int e = errno;
    close(fd);
    return err(e);
  }
  int changed = flags | flag;
  if (raw_ioctl(fd, cmd, &changed) != 0) {
    int e = errno;
    close(fd);
    return err(e);
  }
  ioctl(fd, FS_IOC_SETFLAGS, &flags);
  close(fd);
  printf("%s ok (changed, then restored)\n", op);
}

static void setversion(const char* path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return err(errno);
  int version = 0;
  // Read with the raw number: FS_IOC_GETVERSION is not on the allow-list
  // either, so a refusal there is printed as the answer.
  if (ioctl(fd, FS_IOC_GETVERSION, &version) != 0) version = 0;
  int next = version + 1;
  if (ioctl(fd, FS_IOC_SETVERSION, &next) != 0) {
    int e = errno;
    close(fd);
    return err(e);
  }
  ioctl(fd, FS_IOC_SETVERSION, &version);
  close(fd);
  printf("%s ok (changed, then restored)\n", op);
}

static void on_pipe(void) {
  int p[2];
  if (pipe(p) != 0) return err(errno);
  if (!strcmp(op, "freeze")) {
    long rc = ioctl(p[0], FIFREEZE, 0);
    if (rc != 0) err(errno); else printf("%s ok\n", op);
  } else if (!strcmp(op, "fionread")) {
    (void)!write(p[1], "abc", 3);
    int avail = -1;
    if (ioctl(p[0], FIONREAD, &avail) != 0) err(errno); else printf("%s ok %d\n", op, avail);
  } else if (!strcmp(op, "fionbio")) {
    int on = 1;
    if (ioctl(p[0], FIONBIO, &on) != 0) err(errno);
    else printf("%s ok%s\n", op, (fcntl(p[0], F_GETFL) & O_NONBLOCK) ? " nonblock" : " blocking?");
  } else {  // fioclex
    if (ioctl(p[0], FIOCLEX) != 0) err(errno);
    else printf("%s ok%s\n", op, (fcntl(p[0], F_GETFD) & FD_CLOEXEC) ? " cloexec" : " inherited?");
  }
  close(p[0]);
  close(p[1]);
}

static void on_socket(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return err(errno);
  if (!strcmp(op, "siocgifconf")) {
    struct ifreq reqs[32];
    struct ifconf conf = {.ifc_len = sizeof reqs, .ifc_req = reqs};
    if (ioctl(s, SIOCGIFCONF, &conf) != 0) err(errno);
    else printf("%s ok %s\n", op, conf.ifc_len > 0 ? "interfaces" : "none");
  } else {  // siocgifindex
    struct ifreq req;
    memset(&req, 0, sizeof req);
    strcpy(req.ifr_name, "lo");
    if (ioctl(s, SIOCGIFINDEX, &req) != 0) err(errno);
    else printf("%s ok %s\n", op, req.ifr_ifindex > 0 ? "indexed" : "zero?");
  }
  close(s);
}

static void on_null(void) {
  int fd = open("/dev/null", O_RDWR);
  if (fd < 0) return err(errno);
  char t[64];  // big enough for struct termios (the kernel's, 36 bytes)
  if (!strcmp(op, "isatty-null")) {
    errno = 0;
    int r = isatty(fd);
    printf("%s ok %d %s\n", op, r, errname(errno));
  } else {
    uint64_t cmd = TCGETS;
    if (!strcmp(op, "tcgets-null-high")) cmd |= 0xfeed000000000000ull;
    if (raw_ioctl(fd, cmd, t) != 0) err(errno); else printf("%s ok\n", op);
  }
  close(fd);
}

static void on_pty(void) {
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  if (m < 0) return err(errno);
  char t[64];
  struct winsize ws = {.ws_row = 42, .ws_col = 99};
  struct winsize back;
  const char* name = NULL;
  if (unlockpt(m) != 0 || !(name = ptsname(m)) || ioctl(m, TCGETS, t) != 0 || ioctl(m, TIOCSWINSZ, &ws) != 0 ||
      ioctl(m, TIOCGWINSZ, &back) != 0) {
    int e = errno;
    close(m);
    return err(e);
  }
  printf("%s ok %s %dx%d\n", op, strncmp(name, "/dev/pts/", 9) ? "?" : "pts", back.ws_row, back.ws_col);
  close(m);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int i = 1; i < argc; ++i) {
    op = argv[i];
    const char* path = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(op, "setflags-immutable")) { setflags(path, FS_IMMUTABLE_FL, FS_IOC_SETFLAGS); ++i; }
    else if (!strcmp(op, "setflags-append")) { setflags(path, FS_APPEND_FL, FS_IOC_SETFLAGS); ++i; }
    else if (!strcmp(op, "setflags-high")) { setflags(path, FS_IMMUTABLE_FL, 0xdead000000000000ull | FS_IOC_SETFLAGS); ++i; }
    else if (!strcmp(op, "setversion")) { setversion(path); ++i; }
    else if (!strcmp(op, "getflags")) {
      ++i;
      int fd = open(path, O_RDONLY);
      int flags = 0;
      if (fd < 0) err(errno);
      else if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) err(errno);
      else printf("%s ok\n", op);
      if (fd >= 0) close(fd);
    }
    else if (!strcmp(op, "freeze") || !strcmp(op, "fionread") || !strcmp(op, "fionbio") || !strcmp(op, "fioclex")) on_pipe();
    else if (!strcmp(op, "siocgifconf") || !strcmp(op, "siocgifindex")) on_socket();
    else if (!strncmp(op, "tcgets-null", 11) || !strcmp(op, "isatty-null")) on_null();
    else if (!strcmp(op, "pty")) on_pty();
    else printf("%s err unknown-op\n", op);
  }
  return 0;
}
