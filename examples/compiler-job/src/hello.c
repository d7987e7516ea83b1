/* Compiled by gcc running under wwjail (see ../README.md). */
#include <stdio.h>

int main(void) {
  puts("hello from a program compiled inside wwjail");
  return 0;
}
