/* connect_exhaust DIR N: N guest threads connect to a unix listener with
 * backlog 0 that never accepts, so all but one block in connect (the broker
 * performs them when it mediates connects); then the main thread connects to
 * a second listener that has room, which natively returns at once.
 * A broker whose blocked connects hold every worker leaves the last connect
 * waiting: the alarm turns that into "stalled" and exit status 3. Prints
 * "ok" and exits 0 once the healthy connect is answered (success, or an
 * error: answering is what counts, not queuing forever). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static struct sockaddr_un full, room;

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "stalled\n";
  (void)!write(1, msg, sizeof msg - 1);
  _exit(3);
}

static int listener(struct sockaddr_un* a, const char* dir, const char* name, int backlog) {
  a->sun_family = AF_UNIX;
  snprintf(a->sun_path, sizeof a->sun_path, "%s/%s", dir, name);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s < 0 || bind(s, (struct sockaddr*)a, sizeof *a) != 0 || listen(s, backlog) != 0) {
    perror("listener");
    exit(1);
  }
  return s;
}

static void* stuck(void* arg) {
  (void)arg;
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  (void)connect(c, (struct sockaddr*)&full, sizeof full);
  return NULL;
}

/* How many of this process's threads sit in connect(). */
static int in_connect(void) {
  DIR* d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  struct dirent* e;
  while ((e = readdir(d))) {
    char path[300], text[64] = {0};
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/syscall", e->d_name);
    FILE* f = fopen(path, "r");
    if (!f) continue;
    if (fgets(text, sizeof text, f) && atoi(text) == SYS_connect) ++n;
    fclose(f);
  }
  closedir(d);
  return n;
}

static void wait_until_blocked(int want) {
  for (int i = 0; i < 1000; ++i) { /* up to 10 s, then go ahead */
    int n = in_connect();
    if (n < 0 || n >= want) return;
    usleep(10000);
  }
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  int n = atoi(argv[2]);
  listener(&full, argv[1], "full", 0);
  listener(&room, argv[1], "room", 16);
  for (int i = 0; i < n; ++i) {
    pthread_t t;
    if (pthread_create(&t, NULL, stuck, NULL) != 0) {
      perror("pthread_create");
      return 1;
    }
  }
  wait_until_blocked(n - 1); /* backlog 0 still takes one connection */
  signal(SIGALRM, on_alarm);
  alarm(15);
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  if (connect(c, (struct sockaddr*)&room, sizeof room) != 0) printf("connect: %s\n", strerror(errno));
  printf("ok\n");
  fflush(stdout);
  _exit(0);
}
