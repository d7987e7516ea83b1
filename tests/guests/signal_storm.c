// signal_storm: interrupts pending notifications. The main thread opens and
// reads PATH in a loop while a second thread keeps sending it SIGUSR1 (a
// handler without SA_RESTART), so many opens are interrupted while the
// broker holds their notification. Every open must either fail with EINTR
// or return a descriptor that really is PATH.
// Usage: signal_storm PATH ITERATIONS MAX_SECONDS
// Prints "ok=N eintr=N bogus=N other=N signals=N iterations=N" and, for the
// first bogus results, "BOGUS fd=N ...".
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop;
static atomic_long signals_sent;
static atomic_long handled;
static pid_t main_tid;

static void on_usr1(int sig) {
  (void)sig;
  atomic_fetch_add_explicit(&handled, 1, memory_order_relaxed);
}

static void* storm(void* unused) {
  (void)unused;
  struct timespec gap = {0, 20 * 1000};
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
    atomic_fetch_add_explicit(&signals_sent, 1, memory_order_relaxed);
    nanosleep(&gap, NULL);
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
  const char* path = argv[1];
  long iterations = atol(argv[2]);
  double deadline = now_s() + atof(argv[3]);
  struct stat want;
  if (stat(path, &want) != 0) {
    printf("setup-failed %s\n", strerror(errno));
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;  // no SA_RESTART: interrupted calls return EINTR
  sigaction(SIGUSR1, &sa, NULL);
  main_tid = (pid_t)syscall(SYS_gettid);
  pthread_t t;
  if (pthread_create(&t, NULL, storm, NULL) != 0) return 1;

  long ok = 0, eintr = 0, bogus = 0, other = 0, i;
  for (i = 0; i < iterations; ++i) {
    if ((i & 63) == 0 && now_s() > deadline) break;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) ++eintr;
      else if (++other <= 3) printf("other %s\n", strerror(errno));
      continue;
    }
    // fstat is answered by the broker too and may itself be interrupted.
    struct stat st;
    int rc;
    do rc = fstat(fd, &st); while (rc != 0 && errno == EINTR);
    if (rc != 0 || st.st_ino != want.st_ino || st.st_dev != want.st_dev) {
      if (++bogus <= 5) printf("BOGUS fd=%d fstat=%s ino=%lu\n", fd, rc ? strerror(errno) : "ok", (unsigned long)st.st_ino);
      if (fd > 2) close(fd);
      continue;
    }
    ++ok;
    close(fd);
  }
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  printf("ok=%ld eintr=%ld bogus=%ld other=%ld signals=%ld iterations=%ld\n", ok, eintr, bogus, other,
         atomic_load(&signals_sent), i);
  return 0;
}
