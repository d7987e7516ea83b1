/* fifo_stall DIR: one guest thread's open blocks in the broker, and other
 * threads' opens must still be served.
 *
 * Every open here has O_CREAT, which the broker (--broker-opens) performs
 * through its event loop rather than inline, and an O_CREAT open of an
 * existing FIFO waits for its peer there.
 *  1. Thread A opens DIR/held for writing: no reader, so it blocks. Once A
 *     is known to wait in its open, thread B opens DIR/other (a regular
 *     file); then the main thread opens DIR/held for reading without
 *     waiting (served inline), which releases A.
 *  2. Threads C and D open DIR/pair for writing and for reading: each open
 *     waits for the other, so they end only if both are served at once.
 * A loop that stalls behind a blocked open hangs here; the alarm turns the
 * hang into "stalled at N" and exit status 3. Prints "ok" and exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char held[4096], other[4096], pair[4096];
static volatile sig_atomic_t stage = 0;
static volatile pid_t a_tid = 0;

static void on_alarm(int sig) {
  (void)sig;
  char msg[] = "stalled at 0\n";
  msg[11] = (char)('0' + stage);
  (void)!write(1, msg, sizeof msg - 1);
  _exit(3);
}

static void* open_path(const char* path, int flags) {
  int fd = open(path, flags | O_CREAT, 0600);
  if (fd < 0) {
    fprintf(stderr, "open %s: %s\n", path, strerror(errno));
    exit(1);
  }
  close(fd);
  return NULL;
}

static void* thread_a(void* arg) {
  (void)arg;
  a_tid = (pid_t)syscall(SYS_gettid);
  return open_path(held, O_WRONLY);
}
static void* thread_b(void* arg) { (void)arg; return open_path(other, O_WRONLY | O_TRUNC); }
static void* thread_c(void* arg) { (void)arg; return open_path(pair, O_WRONLY); }
static void* thread_d(void* arg) { (void)arg; return open_path(pair, O_RDONLY); }

/* True once thread `tid` sits in open() (openat, as the kernel reports the
 * syscall a thread is blocked in). */
static int waits_in_open(pid_t tid) {
  char path[64], text[64] = {0};
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t got = read(fd, text, sizeof text - 1);
  close(fd);
  return got > 0 && atoi(text) == SYS_openat;
}

static void wait_until_a_blocks(void) {
  while (!a_tid) usleep(1000);
  for (;;) {
    int w = waits_in_open(a_tid);
    if (w < 0) {  /* cannot tell: give it time to get there */
      usleep(300000);
      return;
    }
    if (w) return;
    usleep(1000);
  }
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  snprintf(held, sizeof held, "%s/held", argv[1]);
  snprintf(other, sizeof other, "%s/other", argv[1]);
  snprintf(pair, sizeof pair, "%s/pair", argv[1]);
  if (mkfifo(held, 0600) != 0 || mkfifo(pair, 0600) != 0) {
    perror("mkfifo");
    return 1;
  }
  signal(SIGALRM, on_alarm);
  alarm(60);
  pthread_t a, b, c, d;
  stage = 1;
  pthread_create(&a, NULL, thread_a, NULL);
  wait_until_a_blocks();
  pthread_create(&b, NULL, thread_b, NULL);
  pthread_join(b, NULL);
  stage = 2;
  int reader = open(held, O_RDONLY | O_NONBLOCK);
  if (reader < 0) {
    perror("open held for reading");
    return 1;
  }
  pthread_join(a, NULL);
  close(reader);
  stage = 3;
  pthread_create(&c, NULL, thread_c, NULL);
  pthread_create(&d, NULL, thread_d, NULL);
  pthread_join(c, NULL);
  pthread_join(d, NULL);
  printf("ok\n");
  return 0;
}
