/* Sieve of Eratosthenes up to 8 million: branches and byte stores. */
#include <string.h>

#include "kernel_timer.h"

#define LIMIT 8000000
static unsigned char composite[LIMIT + 1];

static uint64_t work(void) {
  memset(composite, 0, sizeof composite);
  uint64_t count = 0;
  for (uint32_t i = 2; i <= LIMIT; ++i) {
    if (composite[i]) continue;
    ++count;
    for (uint64_t j = (uint64_t)i * i; j <= LIMIT; j += i) composite[j] = 1;
  }
  return count;
}

int main(int argc, char** argv) { return kernel_main(argc, argv, work, 7); }
