/* Dense matrix multiply, 256 x 256 doubles (i-k-j order): floating point
 * and memory bandwidth. The checksum is the trace, truncated. */
#include "kernel_timer.h"

#define N 256
static double a[N][N], b[N][N], c[N][N];

static uint64_t work(void) {
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) {
      a[i][j] = (double)((i * 7 + j * 3) % 17) / 16.0;
      b[i][j] = (double)((i * 5 + j * 11) % 13) / 12.0;
      c[i][j] = 0;
    }
  for (int i = 0; i < N; ++i)
    for (int k = 0; k < N; ++k) {
      double aik = a[i][k];
      for (int j = 0; j < N; ++j) c[i][j] += aik * b[k][j];
    }
  double trace = 0;
  for (int i = 0; i < N; ++i) trace += c[i][i];
  return (uint64_t)(trace * 1000.0);
}

int main(int argc, char** argv) { return kernel_main(argc, argv, work, 9); }
