// Descriptor calls the broker serves, made from a thread that is not the
// process's main thread: fstat of a file the main thread opened.
// Prints "ok size=N" or "err ERRNO".
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fd = -1;
static int result, saved_errno;
static struct stat st;

static void* worker(void* arg) {
  (void)arg;
  result = fstat(fd, &st);
  saved_errno = errno;
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  fd = open(argv[1], O_RDONLY);
  if (fd < 0) {
    printf("err open %s\n", strerror(errno));
    return 1;
  }
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  if (result != 0) {
    printf("err %s\n", strerror(saved_errno));
    return 1;
  }
  printf("ok size=%lld\n", (long long)st.st_size);
  return 0;
}
