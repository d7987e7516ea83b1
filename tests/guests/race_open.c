// race_open: pointer TOCTOU against the broker. The main thread opens the
// path in one shared buffer over and over; a second thread keeps rewriting
// that buffer between a granted path and a secret one. The two paths must
// have the same length; usually they differ in a single byte, so every flip
// is one atomic store and each open sees one of the two whole paths.
//
// Usage: race_open GRANTED SECRET ITERATIONS MAX_SECONDS [SYSCALL]
//   SYSCALL: openat (default), open, openat2, or openat-append: open for
//   writing (O_WRONLY|O_APPEND) and append one "X"; every successful open
//   counts as granted, and the test checks the files afterwards;
//   opath-reopen: open O_PATH, then reopen /proc/self/fd/N for reading;
//   opath-link LINK: open O_PATH, hard-link the fd to LINK (a writable
//   place, linkat AT_EMPTY_PATH), then read LINK. For both, an O_PATH fd
//   that fstat refuses or that names another inode than the granted file is
//   counted in "opath_foreign=N" (appended to the summary).
//    or:   race_open --symlink OPEN_PATH LINK TARGET_A TARGET_B ITERATIONS MAX_SECONDS
//   the buffer stays OPEN_PATH; the second thread instead swaps the symlink
//   LINK (atomically, symlink + rename) between TARGET_A (granted) and
//   TARGET_B (secret), so the race is in the filesystem, not in memory.
// Prints one summary line:
//   "granted=N secret=N denied=N other=N flips=N iterations=N absent=N erofs=N exdev=N"
// (denied: EACCES or EPERM; absent: ENOENT, as in a view where only grants
// exist; erofs: EROFS, a write to a read-only grant in a view; exdev: EXDEV,
// Landlock refusing a link that would change a file's rights)
// and, for the first opens whose content was not the granted file's, a line
// "LEAK <data> (fd stat)"; the first unexpected errors as "other-error ...".
// The granted and secret files must hold different first lines.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char path_buf[4096];
static char granted[4096], secret[4096];
static size_t path_len;
static atomic_int stop;
static atomic_long flips;
static const char* link_path;
static const char* link_targets[2];

static void* link_flipper(void* unused) {
  (void)unused;
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", link_path);
  for (int k = 0; !atomic_load_explicit(&stop, memory_order_relaxed); k ^= 1) {
    unlink(tmp);
    if (symlink(link_targets[k], tmp) != 0 || rename(tmp, link_path) != 0) {
      printf("flip-failed %s\n", strerror(errno));
      return NULL;
    }
    atomic_fetch_add_explicit(&flips, 1, memory_order_relaxed);
  }
  return NULL;
}

static void* flipper(void* unused) {
  (void)unused;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    // Only the differing bytes are written; volatile keeps every store.
    volatile char* p = path_buf;
    for (size_t i = 0; i < path_len; ++i)
      if (granted[i] != secret[i]) p[i] = secret[i];
    for (size_t i = 0; i < path_len; ++i)
      if (granted[i] != secret[i]) p[i] = granted[i];
    atomic_fetch_add_explicit(&flips, 1, memory_order_relaxed);
  }
  return NULL;
}

static int read_first_line(const char* p, char* out, size_t size) {
  int fd = open(p, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, out, size - 1);
  close(fd);
  if (n < 0) return -1;
  out[n] = 0;
  char* nl = strchr(out, '\n');
  if (nl) *nl = 0;
  return 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  bool symlink_mode = argc > 1 && !strcmp(argv[1], "--symlink");
  long iterations;
  double max_seconds;
  const char* which = "openat";
  if (symlink_mode) {
    if (argc < 8) return 2;
    snprintf(granted, sizeof granted, "%s", argv[2]);
    snprintf(secret, sizeof secret, "%s", argv[2]);
    link_path = argv[3];
    link_targets[0] = argv[4];
    link_targets[1] = argv[5];
    iterations = atol(argv[6]);
    max_seconds = atof(argv[7]);
  } else {
    if (argc < 5) return 2;
    snprintf(granted, sizeof granted, "%s", argv[1]);
    snprintf(secret, sizeof secret, "%s", argv[2]);
    iterations = atol(argv[3]);
    max_seconds = atof(argv[4]);
    if (argc > 5) which = argv[5];
  }
  path_len = strlen(granted);
  if (strlen(secret) != path_len) {
    fprintf(stderr, "race_open: paths must have the same length\n");
    return 2;
  }
  // The granted file's content identifies a good open; anything else that
  // opens and reads is checked against nothing: it is printed as a LEAK.
  char granted_line[256];
  if (read_first_line(granted, granted_line, sizeof granted_line) != 0) {
    printf("setup-failed cannot read granted file: %s\n", strerror(errno));
    return 1;
  }
  memcpy(path_buf, granted, path_len + 1);

  pthread_t t;
  if (pthread_create(&t, NULL, symlink_mode ? link_flipper : flipper, NULL) != 0) return 1;

  const char* link_to = argc > 6 ? argv[6] : NULL;
  bool via_opath = !strncmp(which, "opath-", 6);
  struct stat granted_st;
  if (stat(granted, &granted_st) != 0) {
    printf("setup-failed cannot stat granted file: %s\n", strerror(errno));
    return 1;
  }
  long n_granted = 0, n_secret = 0, n_denied = 0, n_absent = 0, n_erofs = 0, n_exdev = 0, n_other = 0, n_opath_foreign = 0, i;
  double deadline = now_s() + max_seconds;
  for (i = 0; i < iterations; ++i) {
    if ((i & 63) == 0 && now_s() > deadline) break;
    int fd;
    if (!strcmp(which, "open")) {
      fd = (int)syscall(SYS_open, path_buf, O_RDONLY);
    } else if (!strcmp(which, "openat2")) {
      struct open_how how;
      memset(&how, 0, sizeof how);
      how.flags = O_RDONLY;
      fd = (int)syscall(SYS_openat2, AT_FDCWD, path_buf, &how, sizeof how);
    } else if (!strcmp(which, "openat-append")) {
      fd = (int)syscall(SYS_openat, AT_FDCWD, path_buf, O_WRONLY | O_APPEND);
    } else if (via_opath) {
      int pfd = (int)syscall(SYS_openat, AT_FDCWD, path_buf, O_PATH);
      fd = pfd;
      if (pfd >= 0) {
        struct stat pst;
        if (fstat(pfd, &pst) != 0) {
          if (n_opath_foreign < 3) printf("opath-fstat-failed %s\n", strerror(errno));
          ++n_opath_foreign;
        } else if (pst.st_ino != granted_st.st_ino || pst.st_dev != granted_st.st_dev) {
          if (n_opath_foreign < 3) printf("opath-foreign size=%lld\n", (long long)pst.st_size);
          ++n_opath_foreign;
        }
        if (!strcmp(which, "opath-link") && link_to) {
          int rc = linkat(pfd, "", AT_FDCWD, link_to, AT_EMPTY_PATH);
          fd = rc == 0 ? open(link_to, O_RDONLY) : -1;
          int saved = errno;
          if (rc == 0) unlink(link_to);
          errno = saved;
        } else {
          char p[64];
          snprintf(p, sizeof p, "/proc/self/fd/%d", pfd);
          fd = open(p, O_RDONLY);
        }
        int saved = errno;
        close(pfd);
        errno = saved;
      }
    } else {
      fd = (int)syscall(SYS_openat, AT_FDCWD, path_buf, O_RDONLY);
    }
    if (fd < 0) {
      if (errno == EACCES || errno == EPERM) {
        ++n_denied;
      } else if (errno == ENOENT) {
        ++n_absent;
      } else if (errno == EROFS) {
        ++n_erofs;
      } else if (errno == EXDEV) {
        ++n_exdev;
      } else {
        if (n_other < 3) printf("other-error %s\n", strerror(errno));
        ++n_other;
      }
      continue;
    }
    if (!strcmp(which, "openat-append")) {
      if (write(fd, "X", 1) == 1) ++n_granted;
      else ++n_other;
      close(fd);
      continue;
    }
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int read_errno = errno;
    struct stat st;
    memset(&st, 0, sizeof st);
    fstat(fd, &st);
    close(fd);
    if (n < 0) {
      if (n_other < 3) printf("other-read-error fd=%d %s mode=%o ino=%lu\n", fd, strerror(read_errno), st.st_mode,
                              (unsigned long)st.st_ino);
      ++n_other;
      continue;
    }
    buf[n] = 0;
    char* nl = strchr(buf, '\n');
    if (nl) *nl = 0;
    if (!strcmp(buf, granted_line)) {
      ++n_granted;
    } else {
      ++n_secret;
      if (n_secret <= 5)
        printf("LEAK %s (fd=%d mode=%o size=%lld ino=%lu)\n", buf, fd, st.st_mode, (long long)st.st_size,
               (unsigned long)st.st_ino);
    }
  }
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  printf("granted=%ld secret=%ld denied=%ld other=%ld flips=%ld iterations=%ld", n_granted, n_secret, n_denied,
         n_other, atomic_load(&flips), i);
  printf(" absent=%ld erofs=%ld exdev=%ld", n_absent, n_erofs, n_exdev);
  if (via_opath) printf(" opath_foreign=%ld", n_opath_foreign);
  printf("\n");
  return 0;
}
