/* Shared by the CPU-bound kernels: each runs its work REPS times, prints
 * the median time of one rep ("ns=") and a checksum ("check=") the driver
 * compares between the native and the WebAssembly build. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t kernel_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int kernel_cmp(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

/* Runs work() reps times; prints the median and the last checksum. */
static int kernel_main(int argc, char** argv, uint64_t (*work)(void), int default_reps) {
  int reps = argc > 1 ? atoi(argv[1]) : default_reps;
  if (reps < 1 || reps > 1000) reps = default_reps;
  int64_t t[1000];
  uint64_t check = 0;
  for (int i = 0; i < reps; ++i) {
    int64_t t0 = kernel_now_ns();
    check = work();
    t[i] = kernel_now_ns() - t0;
  }
  qsort(t, (size_t)reps, sizeof t[0], kernel_cmp);
  printf("ns=%lld check=%llu\n", (long long)t[reps / 2], (unsigned long long)check);
  return 0;
}
