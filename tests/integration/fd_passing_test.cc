// SCM_RIGHTS through the broker: sendmsg is always performed by the broker,
// which replaces the guest's descriptor numbers by its own duplicates of the
// same open files. The receiver must get a working descriptor of the very
// file that was sent.
#include <gtest/gtest.h>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

TEST(NetworkFdPassing, DescriptorsArriveAsTheSameOpenFiles) {
  ScratchDir d;
  std::string file = d.file("shared.txt", "passed through the broker\n");
  std::string script =
      "import socket, os\n"
      "a, b = socket.socketpair()\n"
      "fd = os.open('" + file + "', os.O_RDONLY)\n"
      "os.lseek(fd, 7, os.SEEK_SET)\n"  // the offset lives in the open file, so it must travel too
      "socket.send_fds(a, [b'x'], [fd, 1])\n"
      "msg, fds, flags, addr = socket.recv_fds(b, 16, 4)\n"
      // flush: on a pipe print() is block-buffered and os.write is not, so
      // without it the second line would come out first.
      "print(msg, len(fds), os.read(fds[0], 100), flush=True)\n"
      "os.write(fds[1], b'via passed stdout\\n')\n";
  auto r = jail({"--read", "/usr", "--read", file}, {"/usr/bin/python3", "-S", "-c", script});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "b'x' 2 b'through the broker\\n'\nvia passed stdout\n");
}

TEST(NetworkFdPassing, ABadDescriptorIsRefusedNotSent) {
  auto r = jail({"--read", "/usr"},
                {"/usr/bin/python3", "-S", "-c",
                 "import socket\na, b = socket.socketpair()\n"
                 "try:\n    socket.send_fds(a, [b'x'], [987])\n    print('sent')\n"
                 "except OSError as e:\n    print('refused', e.errno)\n"});
  EXPECT_EQ(r.out, "refused 9\n") << r.err;  // EBADF, as natively
}

}  // namespace
}  // namespace wwjail::testing
