/* Built with -msimd128: lane-building SIMD (i32x4.replace_lane) that wabt
 * 1.0.32's wasm2c cannot translate; wwjail must say it is SIMD. Prints the
 * sum of 1..64 computed four lanes at a time, where a tier runs it. */
#include <stdio.h>
#include <wasm_simd128.h>

int main(void) {
  v128_t acc = wasm_i32x4_splat(0);
  for (int i = 1; i <= 64; i += 4) acc = wasm_i32x4_add(acc, wasm_i32x4_make(i, i + 1, i + 2, i + 3));
  int sum = wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) + wasm_i32x4_extract_lane(acc, 2) +
            wasm_i32x4_extract_lane(acc, 3);
  printf("sum=%d\n", sum);
  return 0;
}
