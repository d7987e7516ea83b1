// threads_open: N threads wait on a barrier, then each opens, reads and
// closes the same file at once, so the broker sees N notifications together.
// Usage: threads_open PATH N
// Prints "ok=N bad=N" and, for each failing thread, "fail <errno-text>".
// A thread succeeds when it reads the file's first line intact.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_barrier_t barrier;
static const char* path;
static char expected[256];

struct result {
  int ok;
  int err;
};

static int first_line(int fd, char* out, size_t size) {
  ssize_t n = read(fd, out, size - 1);
  if (n < 0) return -1;
  out[n] = 0;
  char* nl = strchr(out, '\n');
  if (nl) *nl = 0;
  return 0;
}

static void* worker(void* arg) {
  struct result* r = arg;
  pthread_barrier_wait(&barrier);
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    r->err = errno;
    return NULL;
  }
  char buf[256];
  int rc = first_line(fd, buf, sizeof buf);
  r->err = rc < 0 ? errno : 0;
  if (close(fd) != 0 && !r->err) r->err = errno;
  r->ok = rc == 0 && r->err == 0 && !strcmp(buf, expected);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  path = argv[1];
  int n = atoi(argv[2]);
  int fd = open(path, O_RDONLY);
  if (fd < 0 || first_line(fd, expected, sizeof expected) < 0) {
    printf("setup-failed %s\n", strerror(errno));
    return 1;
  }
  close(fd);

  pthread_t* threads = calloc((size_t)n, sizeof *threads);
  struct result* results = calloc((size_t)n, sizeof *results);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  pthread_barrier_init(&barrier, NULL, (unsigned)n);
  for (int i = 0; i < n; ++i) {
    int rc = pthread_create(&threads[i], &attr, worker, &results[i]);
    if (rc != 0) {
      // The barrier would never open; say why and stop.
      printf("setup-failed pthread_create %d: %s\n", i, strerror(rc));
      fflush(stdout);
      _exit(1);
    }
  }
  int ok = 0, bad = 0;
  for (int i = 0; i < n; ++i) {
    pthread_join(threads[i], NULL);
    if (results[i].ok) {
      ++ok;
    } else {
      ++bad;
      printf("fail %s\n", strerror(results[i].err));
    }
  }
  printf("ok=%d bad=%d\n", ok, bad);
  return bad == 0 ? 0 : 1;
}
