// broker_kill_loop: a guest that outlives nothing on purpose. It prints its
// pid, then every 10 ms opens PATH and prints "ok" or "err <errno>", for at
// most MAX_SECONDS. A test kills wwjail under it and checks that the guest
// dies too (PR_SET_PDEATHSIG) instead of running on unsupervised.
// Usage: broker_kill_loop PATH MAX_SECONDS
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("pid %d\n", (int)getpid());
  int rounds = atoi(argv[2]) * 100;
  struct timespec tick = {0, 10 * 1000 * 1000};
  for (int i = 0; i < rounds; ++i) {
    int fd = open(argv[1], O_RDONLY);
    if (fd >= 0) {
      close(fd);
      printf("ok\n");
    } else {
      printf("err %s\n", strerror(errno));
    }
    nanosleep(&tick, NULL);
  }
  printf("finished\n");
  return 0;
}
