// threads_open: N threads wait on a barrier, then each opens, reads and
// closes the same file at once, so the broker sees N notifications together.
// Usage: threads_open PATH N [ROUNDS]
// Each thread repeats open/read/close ROUNDS times (default 1) and succeeds
// when every round read the file's first line intact.
// Prints "ok=N bad=N" and, for the first failing threads, "fail <reason>".
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
static int rounds = 1;

struct result {
  int ok;
  int err;        // errno of the first failed call, 0 if none
  int bogus_fd;   // an open "succeeded" but the fd did not read the file
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
  for (int i = 0; i < rounds; ++i) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
      r->err = errno;
      return NULL;
    }
    char buf[256];
    int rc = first_line(fd, buf, sizeof buf);
    if (rc < 0) r->err = errno;
    if (close(fd) != 0 && !r->err) r->err = errno;
    if (r->err) return NULL;
    if (strcmp(buf, expected) != 0) {
      r->bogus_fd = fd + 1;
      return NULL;
    }
  }
  r->ok = 1;
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  path = argv[1];
  int n = atoi(argv[2]);
  if (argc > 3) rounds = atoi(argv[3]);
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
      if (++bad <= 10) {
        if (results[i].bogus_fd) printf("fail open returned fd %d, which does not read the file\n", results[i].bogus_fd - 1);
        else printf("fail %s\n", strerror(results[i].err));
      }
    }
  }
  printf("ok=%d bad=%d\n", ok, bad);
  return bad == 0 ? 0 : 1;
}
