// Where the kernel decides file access (Landlock), its refusals reach the
// audit log: the guest's Landlock domain asks for records after its exec
// (LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON), without which the kernel writes
// none for the program the guest runs. Root only: the test switches audit on
// for its duration (restoring what it found) and reads the records from the
// audit netlink multicast group, as auditd's readers do.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

#ifndef AUDIT_LANDLOCK_ACCESS
#define AUDIT_LANDLOCK_ACCESS 1423
#endif

class AuditSocket {
 public:
  explicit AuditSocket(unsigned groups) : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT)) {
    sockaddr_nl a{};
    a.nl_family = AF_NETLINK;
    a.nl_groups = groups;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~AuditSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  AuditSocket(const AuditSocket&) = delete;
  AuditSocket& operator=(const AuditSocket&) = delete;
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Sends one audit request and returns the reply's payload (empty on error).
std::string audit_request(uint16_t type, const void* body, size_t len) {
  AuditSocket s(0);
  if (!s.ok()) return {};
  timeval limit{2, 0};
  ::setsockopt(s.fd(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  char buf[8192]{};
  auto* h = reinterpret_cast<nlmsghdr*>(buf);
  h->nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(len));
  h->nlmsg_type = type;
  // AUDIT_GET answers with the status; AUDIT_SET with nothing unless asked
  // for an ack (and an ack asked of AUDIT_GET would come first).
  h->nlmsg_flags = NLM_F_REQUEST | (type == AUDIT_SET ? NLM_F_ACK : 0);
  if (len != 0) std::memcpy(NLMSG_DATA(h), body, len);  // AUDIT_GET has no body
  if (::send(s.fd(), buf, h->nlmsg_len, 0) < 0) return {};
  ssize_t n = ::recv(s.fd(), buf, sizeof buf, 0);
  if (n < static_cast<ssize_t>(NLMSG_HDRLEN)) return {};
  return std::string(static_cast<char*>(NLMSG_DATA(h)), static_cast<size_t>(n) - NLMSG_HDRLEN);
}

int audit_enabled() {
  std::string reply = audit_request(AUDIT_GET, nullptr, 0);
  if (reply.size() < sizeof(audit_status)) return -1;
  audit_status st{};
  std::memcpy(&st, reply.data(), sizeof st);
  return static_cast<int>(st.enabled);
}

void set_audit_enabled(int on) {
  audit_status st{};
  st.mask = AUDIT_STATUS_ENABLED;
  st.enabled = static_cast<uint32_t>(on);
  audit_request(AUDIT_SET, &st, sizeof st);
}

// Landlock's access records seen on the multicast group within `ms`.
std::vector<std::string> landlock_records(const AuditSocket& s, int ms) {
  std::vector<std::string> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  char buf[16384];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{s.fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(s.fd(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < static_cast<ssize_t>(NLMSG_HDRLEN)) continue;
    auto* h = reinterpret_cast<nlmsghdr*>(buf);
    if (h->nlmsg_type != AUDIT_LANDLOCK_ACCESS) continue;
    size_t len = std::min<size_t>(h->nlmsg_len, static_cast<size_t>(n)) - NLMSG_HDRLEN;
    out.emplace_back(static_cast<char*>(NLMSG_DATA(h)), len);
  }
  return out;
}

bool any_names(const std::vector<std::string>& records, const std::string& path) {
  for (const auto& r : records)
    if (r.find("path=\"" + path + "\"") != std::string::npos) return true;
  return false;
}

TEST(LandlockAudit, TheGuestsRefusalsReachTheAuditLog) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_AUDIT_CONTROL, CAP_AUDIT_READ)";
  int was = audit_enabled();
  if (was < 0) GTEST_SKIP() << "no audit subsystem";
  AuditSocket readlog(1u << (AUDIT_NLGRP_READLOG - 1));
  if (!readlog.ok()) GTEST_SKIP() << "cannot join the audit log's multicast group";
  set_audit_enabled(1);
  ScratchDir dir;
  std::string granted = dir.sub("granted");
  dir.file("granted/ok.txt", "fine\n");
  std::string secret = dir.file("secret.txt", "hidden\n");
  // Landlock decides without a view: no namespaces (as in a container) and
  // metadata visible.
  std::vector<std::string> argv{guest("no_namespaces"), wwjail_bin(), "--mediate", "auto", "--metadata", "visible",
                                "--read", granted, "--exec", "/usr/bin", "--",
                                "/bin/sh", "-c", "cat " + granted + "/ok.txt; cat " + secret};
  auto r = run(argv, "", 30);
  auto records = landlock_records(readlog, 1500);
  set_audit_enabled(was);
  EXPECT_EQ(r.out, "fine\n") << "the granted read (control)\n" << r.err;
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_TRUE(any_names(records, secret)) << "no Landlock record names " << secret << " (" << records.size()
                                          << " records)";
  EXPECT_FALSE(any_names(records, granted + "/ok.txt")) << "the granted read was recorded as refused";
}

}  // namespace
}  // namespace wwjail::testing
