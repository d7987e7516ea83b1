// race_list: pointer TOCTOU against a --list grant. The main thread opens
// and lists the directory named by one shared buffer, over and over; a
// second thread keeps rewriting it between DIR (listed) and DIR/SUB (not
// granted). A listing that
// shows SUB's entry MARK is a leak.
//
// Usage: race_list DIR SUB MARK ITERATIONS MAX_SECONDS
// Prints "listed=N leaks=N denied=N iterations=N".
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char buf[4096];
static char dir_path[2048], sub_path[2048];
static size_t dir_len, sub_len;
static atomic_int stop;

static void* flipper(void* arg) {
  (void)arg;
  // The whole path is rewritten each time, the granted one last, so it is
  // what the buffer holds most of the time.
  while (!atomic_load(&stop)) {
    memcpy(buf, sub_path, sub_len);
    memcpy(buf, dir_path, dir_len);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: race_list DIR SUB MARK ITERATIONS MAX_SECONDS\n");
    return 2;
  }
  snprintf(dir_path, sizeof dir_path, "%s", argv[1]);
  snprintf(sub_path, sizeof sub_path, "%s/%s", argv[1], argv[2]);
  dir_len = strlen(dir_path) + 1;
  sub_len = strlen(sub_path) + 1;
  memcpy(buf, dir_path, dir_len);
  const char* mark = argv[3];
  long iterations = atol(argv[4]);
  time_t deadline = time(NULL) + atol(argv[5]);
  pthread_t t;
  pthread_create(&t, NULL, flipper, NULL);
  long listed = 0, leaks = 0, denied = 0, i = 0;
  for (; i < iterations && time(NULL) < deadline; ++i) {
    int fd = open(buf, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
      ++denied;
      continue;
    }
    char d[8192];
    long n;
    int leak = 0;
    while ((n = syscall(SYS_getdents64, fd, d, sizeof d)) > 0) {
      for (long off = 0; off < n;) {
        struct dirent64* e = (struct dirent64*)(d + off);
        if (!strcmp(e->d_name, mark)) leak = 1;
        off += e->d_reclen;
      }
    }
    close(fd);
    if (leak) ++leaks;
    else ++listed;
  }
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  printf("listed=%ld leaks=%ld denied=%ld iterations=%ld\n", listed, leaks, denied, i);
  return 0;
}
