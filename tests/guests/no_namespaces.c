// no_namespaces: runs a command where no PID, mount or user namespace can be
// made, as under a container engine's default seccomp profile (clone and
// unshare with those flags answer EPERM). Other namespaces (IPC) stay
// possible. Used to test wwjail's fallback when it cannot build a view.
// Usage: no_namespaces PROGRAM [ARGS...]
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: no_namespaces PROGRAM [ARGS...]\n");
    return 2;
  }
  unsigned ns = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID;
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unshare, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, ns, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) { perror("seccomp"); return 125; }
  execvp(argv[1], argv + 1);
  perror("exec");
  return 127;
}
