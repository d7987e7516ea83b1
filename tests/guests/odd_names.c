// odd_names: a guest that touches files whose names it is given, names
// holding newlines, quotes, glob characters or bytes that are not UTF-8,
// for the tests of what such names do to a learned policy and to the log.
//
//   odd_names OP PATH [OP PATH]...   OP: create | append | read
//
// Prints one line per operation, "ok" or "err ERRNO"; exits 0 when every
// operation succeeded, 1 otherwise, 2 on a usage error.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int attempt(const char* op, const char* path) {
  int fd;
  if (!strcmp(op, "create")) fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  else if (!strcmp(op, "append")) fd = open(path, O_WRONLY | O_APPEND);
  else if (!strcmp(op, "read")) fd = open(path, O_RDONLY);
  else return -2;
  if (fd < 0) return -1;
  int rc = 0;
  if (strcmp(op, "read") != 0 && write(fd, "x", 1) != 1) rc = -1;
  close(fd);
  return rc;
}

int main(int argc, char** argv) {
  if (argc < 3 || argc % 2 == 0) {
    fprintf(stderr, "usage: odd_names OP PATH [OP PATH]...\n");
    return 2;
  }
  int failed = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    int rc = attempt(argv[i], argv[i + 1]);
    if (rc == -2) {
      fprintf(stderr, "odd_names: unknown operation %s\n", argv[i]);
      return 2;
    }
    if (rc == 0) {
      printf("ok\n");
    } else {
      printf("err %d\n", errno);
      failed = 1;
    }
  }
  return failed;
}
