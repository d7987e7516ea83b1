// daemonize: leaves a grandchild behind, the classic way (fork, setsid,
// fork again, parent exits), then exits while the grandchild keeps running.
// Prints "grandchild PID", then "alive" if the grandchild could be signalled
// (kill 0) from the main guest before it exits. The grandchild detaches
// from stdout/stderr (so the test's pipes close) and sleeps SECONDS, then
// writes "survived" to MARKER (if given; a file in a writable grant). The
// main guest lingers MAIN_SECONDS (default 0) before it exits.
// Usage: daemonize SECONDS [MARKER [MAIN_SECONDS]]
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int seconds = atoi(argv[1]);
  const char* marker = argc > 2 ? argv[2] : NULL;
  int main_seconds = argc > 3 ? atoi(argv[3]) : 0;
  int p[2];
  if (pipe(p) != 0) return 1;
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    close(p[0]);
    setsid();
    pid_t grandchild = fork();
    if (grandchild < 0) _exit(1);
    if (grandchild > 0) {
      (void)!write(p[1], &grandchild, sizeof grandchild);
      _exit(0);
    }
    close(p[1]);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    if (devnull > 2) close(devnull);
    sleep((unsigned)seconds);
    if (marker) {
      int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        (void)!write(fd, "survived\n", 9);
        close(fd);
      }
    }
    _exit(0);
  }
  close(p[1]);
  pid_t grandchild = 0;
  if (read(p[0], &grandchild, sizeof grandchild) != sizeof grandchild) return 1;
  waitpid(child, NULL, 0);
  printf("grandchild %d\n", (int)grandchild);
  if (kill(grandchild, 0) == 0) printf("alive\n");
  fflush(stdout);
  if (main_seconds > 0) sleep((unsigned)main_seconds);
  return 0;
}
