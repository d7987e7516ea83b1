// --connect dns end to end, on loopback only: wwjail runs in a private mount
// namespace where /etc/resolv.conf names 127.0.0.1, and a stub resolver in
// this process answers A queries. A real libc lookup in the guest must get
// through with the grant and fail without it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

constexpr uint8_t kAnswer[4] = {127, 0, 0, 7};

// Answers every A query for any name with 127.0.0.7, and everything else
// with an empty NOERROR response. Counts the queries it saw.
class StubResolver {
 public:
  bool start() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
    thread_ = std::thread([this] { serve(); });
    return true;
  }
  ~StubResolver() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  int queries() const { return queries_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      unsigned char q[512];
      sockaddr_in from{};
      socklen_t fl = sizeof from;
      ssize_t n = ::recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n < 12) continue;
      ++queries_;
      // Header, then the question: labels, a zero byte, type and class.
      size_t at = 12;
      while (at < static_cast<size_t>(n) && q[at]) at += q[at] + 1;
      if (at + 5 > static_cast<size_t>(n)) continue;
      uint16_t type = static_cast<uint16_t>(q[at + 1] << 8 | q[at + 2]);
      size_t question_end = at + 5;
      unsigned char r[600];
      std::memcpy(r, q, question_end);
      r[2] = 0x81;  // response, recursion desired
      r[3] = 0x80;  // recursion available, NOERROR
      r[6] = r[8] = r[9] = r[10] = r[11] = 0;
      r[7] = 0;
      size_t len = question_end;
      if (type == 1) {
        r[7] = 1;  // one answer
        const unsigned char answer[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
        std::memcpy(r + len, answer, sizeof answer);
        len += sizeof answer;
        std::memcpy(r + len, kAnswer, 4);
        len += 4;
      }
      ::sendto(fd_, r, len, 0, reinterpret_cast<sockaddr*>(&from), fl);
    }
  }
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

TEST(NetworkDns, ConnectDnsReachesTheResolverAndNothingElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a mount namespace and port 53";
  if (::access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "no unshare(1)";
  // Root is not enough: inside a container without CAP_SYS_ADMIN, or under a
  // seccomp profile that refuses unshare/mount, no mount namespace can be
  // made. Try exactly what the test does, on a file of its own.
  ScratchDir probe;
  std::string probe_file = probe.file("probe", "");
  auto can_bind = run({"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                       "mount --bind /dev/null \"$1\"", "sh", probe_file});
  if (can_bind.exit_code != 0)
    GTEST_SKIP() << "cannot make a private mount namespace with a bind mount here (exit "
                 << can_bind.exit_code << "): " << can_bind.err;
  StubResolver stub;
  if (!stub.start()) GTEST_SKIP() << "127.0.0.1:53 is taken";
  ScratchDir dir;
  std::string conf = dir.file("resolv.conf", "nameserver 127.0.0.1\noptions attempts:1 timeout:1\n");
  std::string hosts = dir.file("hosts", "127.0.0.1 localhost\n");
  std::string nss = dir.file("nsswitch.conf", "hosts: files dns\n");
  auto in_namespace = [&](std::vector<std::string> wwjail_args) {
    std::vector<std::string> argv{"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                                  "mount --bind \"$1\" /etc/resolv.conf && mount --bind \"$2\" /etc/hosts && "
                                  "mount --bind \"$3\" /etc/nsswitch.conf && shift 3 && exec \"$@\"",
                                  "sh", conf, hosts, nss, wwjail_bin()};
    argv.insert(argv.end(), wwjail_args.begin(), wwjail_args.end());
    argv.insert(argv.end(), {"--", "/usr/bin/python3", "-S", "-c",
                             "import socket\ntry:\n    print(socket.gethostbyname('db.wwjail.test'))\n"
                             "except OSError as e:\n    print('failed', e.errno)"});
    return run(argv, "", 30);
  };
  auto granted = in_namespace({"--read", "/usr", "--connect", "dns"});
  EXPECT_EQ(granted.out, "127.0.0.7\n") << granted.err;
  EXPECT_GT(stub.queries(), 0);
  int before = stub.queries();
  // Positive control above; without the grant no query reaches the resolver.
  auto denied = in_namespace({"--read", "/usr", "--read", "/etc"});
  EXPECT_NE(denied.out, "127.0.0.7\n") << denied.err;
  EXPECT_EQ(stub.queries(), before);
  EXPECT_NE(denied.err.find("missing grant: --connect udp:127.0.0.1:53"), std::string::npos) << denied.err;
}

}  // namespace
}  // namespace wwjail::testing
