/* no_io_uring PROGRAM [ARG...]: runs PROGRAM with io_uring forbidden, the
 * way a container's default seccomp profile forbids it (Docker >= 25,
 * Podman, Kubernetes' RuntimeDefault): io_uring_setup, io_uring_enter and
 * io_uring_register fail with ENOSYS; every other syscall is allowed. The
 * filter is inherited by everything PROGRAM starts, wwjail included, and
 * cannot be removed.
 *
 * As root the filter is installed without no_new_privs (CAP_SYS_ADMIN
 * permits it), so set-user-id programs the tests run keep working as they
 * would outside; otherwise no_new_privs is set, as the kernel requires.
 * Exit status 127 when the filter or the exec fails. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define AUDIT_ARCH_HERE AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDIT_ARCH_HERE AUDIT_ARCH_AARCH64
#else
#error "no_io_uring: add this architecture's AUDIT_ARCH"
#endif

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define REFUSE(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
                   BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS)

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: no_io_uring PROGRAM [ARG...]\n");
    return 2;
  }
  struct sock_filter code[] = {
      /* Another ABI (x32 numbers share this arch) is left alone: the
       * broker is built for this one. */
      LOAD(arch),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_HERE, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      LOAD(nr),
      REFUSE(__NR_io_uring_setup),
      REFUSE(__NR_io_uring_enter),
      REFUSE(__NR_io_uring_register),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof code / sizeof code[0], code};
  if (geteuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    fprintf(stderr, "no_io_uring: PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
    return 127;
  }
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    fprintf(stderr, "no_io_uring: seccomp: %s\n", strerror(errno));
    return 127;
  }
  execvp(argv[1], argv + 1);
  fprintf(stderr, "no_io_uring: %s: %s\n", argv[1], strerror(errno));
  return 127;
}
