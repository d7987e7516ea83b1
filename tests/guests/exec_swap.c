// exec_swap: moves the directory that holds an exec-granted program away,
// puts a link to the ELF loader where the program was, and execs that path
// with FILE as the loader's argument, so that the loader would run FILE,
// which the guest may only read. Prints "exec err NAME" when the exec is
// refused; anything FILE does (exit 42) when it is not.
// Usage: exec_swap DIR NAME LOADER FILE [ARGS...]
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: exec_swap DIR NAME LOADER FILE [ARGS...]\n");
    return 2;
  }
  char moved[4096], path[4096];
  snprintf(moved, sizeof moved, "%s.moved", argv[1]);
  snprintf(path, sizeof path, "%s/%s", argv[1], argv[2]);
  if (rename(argv[1], moved) != 0 || mkdir(argv[1], 0755) != 0 || symlink(argv[3], path) != 0) {
    printf("setup err %s\n", strerror(errno));
    return 1;
  }
  char** args = calloc((size_t)argc, sizeof *args);
  args[0] = argv[2];
  for (int i = 4; i < argc; ++i) args[i - 3] = argv[i];
  execv(path, args);
  printf("exec err %s\n", strerrorname_np(errno));
  fflush(stdout);
  return 0;
}
