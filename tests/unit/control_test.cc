// The control plane's parts that need no running jail: names, the trusted
// directory, stop requests, the event feed and the peer check.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "broker/control/control_dir.h"
#include "broker/control/control_peer.h"
#include "broker/control/event_feed.h"
#include "broker/control/stop_requests.h"

namespace wwjail::control {
namespace {

TEST(ControlNames, OnlyPlainNamesAreJailNames) {
  for (const char* ok : {"nginx", "web-1", "a.b_c", "X9"}) EXPECT_TRUE(valid_jail_name(ok)) << ok;
  for (const char* bad : {"", ".hidden", "-flag", "a/b", "..", "a b", "a\nb", "caf\xc3\xa9"})
    EXPECT_FALSE(valid_jail_name(bad)) << bad;
  EXPECT_TRUE(valid_jail_name(std::string(64, 'a')));
  EXPECT_FALSE(valid_jail_name(std::string(65, 'a')));
  EXPECT_THROW(socket_path("/" + std::string(100, 'd'), "name"), std::exception);
  EXPECT_EQ(socket_path("/run/wwjail", "n"), "/run/wwjail/n.sock");
}

TEST(ControlDir, OnlyAPrivateDirectoryOfOursIsTrusted) {
  char tmpl[] = "/tmp/wwjail-ctl-test.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string base = tmpl;
  std::string dir = base + "/d";
  make_control_dir(dir);
  struct stat st{};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(trusted_dir_problem(dir), "");
  ASSERT_EQ(::chmod(dir.c_str(), 0770), 0);
  EXPECT_NE(trusted_dir_problem(dir), "");
  EXPECT_THROW(make_control_dir(dir), std::exception);
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  // A symlink to a good directory is not followed.
  std::string link = base + "/l";
  ASSERT_EQ(::symlink(dir.c_str(), link.c_str()), 0);
  EXPECT_NE(trusted_dir_problem(link), "");
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(dir.c_str(), 4242, 4242), 0);
    EXPECT_NE(trusted_dir_problem(dir).find("uid 4242"), std::string::npos);
  }
  ::unlink(link.c_str());
  ::rmdir(dir.c_str());
  ::rmdir(base.c_str());
}

TEST(StopRequests, EachLevelIsTakenOnceAndNeverLowered) {
  StopRequests s;
  EXPECT_FALSE(s.asked());
  s.ask(StopRequests::kTerminate);
  EXPECT_TRUE(s.asked());
  auto t = s.take();
  EXPECT_TRUE(t.terminate);
  EXPECT_FALSE(t.kill);
  s.ask(StopRequests::kTerminate);  // a second stop: nothing new
  t = s.take();
  EXPECT_FALSE(t.terminate);
  EXPECT_FALSE(t.kill);
  s.ask(StopRequests::kKill);
  s.ask(StopRequests::kTerminate);  // does not lower it
  t = s.take();
  EXPECT_FALSE(t.terminate);
  EXPECT_TRUE(t.kill);
}

TEST(EventFeed, QueuesOnlyForSubscribersAndCountsWhatItCannotHold) {
  EventFeed feed(3);
  DecisionEvent e;
  e.syscall = "openat";
  e.target = "/etc/shadow";
  e.need = "read";
  e.kind = DecisionKind::kDeny;
  e.missing_kind = "read";
  e.missing_target = "/etc/shadow";
  feed.observe(e);
  EXPECT_TRUE(feed.drain().events.empty()) << "queued with nobody subscribed";
  feed.subscribe(true);
  for (int i = 0; i < 5; ++i) feed.observe(e);
  auto b = feed.drain();
  ASSERT_EQ(b.events.size(), 3u);
  EXPECT_EQ(b.dropped, 2u);
  EXPECT_EQ(b.events[0].target, "/etc/shadow");
  EXPECT_EQ(b.events[0].kind, "deny");
  EXPECT_EQ(b.events[0].missing, "read /etc/shadow");
  EXPECT_EQ(feed.drain().dropped, 0u);
}

// A connected pair: `client` connects from a process made by `make_peer`.
struct Peer {
  pid_t pid = -1;
  int server_side = -1;
  ~Peer() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (server_side >= 0) ::close(server_side);
  }
};

// A child (of this process, or of a child of it when `grandchild`) connects
// to a listening socket; with `listener` it first holds a seccomp
// notification listener, as a broker does.
void connect_from_child(Peer& p, bool grandchild, bool listener) {
  int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::snprintf(un.sun_path, sizeof un.sun_path, "/tmp/wwjail-peer-%d.sock", ::getpid());
  ::unlink(un.sun_path);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&un), sizeof un), 0);
  ASSERT_EQ(::listen(lfd, 4), 0);
  p.pid = ::fork();
  if (p.pid == 0) {
    if (grandchild) {
      pid_t middle = ::getpid();
      if (::fork() != 0) {
        for (;;) ::pause();
      }
      // Ends with the middle child, which the test kills.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != middle) ::_exit(4);
    }
    if (listener) {
      // Notify on one syscall nobody makes here (getpriority), allow the rest.
      sock_filter filter[] = {
          BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getpriority, 0, 1),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      };
      sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
      ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog) < 0) ::_exit(3);
    }
    int c = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&un), sizeof un) != 0) ::_exit(2);
    for (;;) ::pause();
  }
  p.server_side = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(lfd);
  ::unlink(un.sun_path);
  ASSERT_GE(p.server_side, 0);
}

TEST(ControlPeer, AGuestIsRefusedAndAProcessBesideTheTreeIsServed) {
  // This process plays the tree's root: its descendants are guests.
  {
    Peer guest;  // a grandchild, so the parent link is walked
    connect_from_child(guest, true, false);
    EXPECT_EQ(peer_refusal(guest.server_side, ::getpid()), "it is one of this jail's guests");
  }
  {
    Peer outsider;
    connect_from_child(outsider, false, false);
    // The tree's root is some other process (PID 1's children are not ours).
    pid_t unrelated_root = outsider.pid + 100000;
    EXPECT_EQ(peer_refusal(outsider.server_side, unrelated_root), "");
  }
}

TEST(ControlPeer, AProcessThatSupervisesGuestsIsRefused) {
  Peer broker;
  connect_from_child(broker, false, true);
  EXPECT_NE(peer_refusal(broker.server_side, broker.pid + 100000).find("supervises guests"), std::string::npos);
}

TEST(ControlPeer, APeerThatHasExitedIsRefused) {
  Peer gone;
  connect_from_child(gone, false, false);
  ::kill(gone.pid, SIGKILL);
  ::waitpid(gone.pid, nullptr, 0);
  gone.pid = -1;
  EXPECT_NE(peer_refusal(gone.server_side, 999999), "");
}

}  // namespace
}  // namespace wwjail::control

#include "policy/duration.h"

namespace wwjail {
namespace {

TEST(Duration, SecondsByDefaultAndTheUnitsTheFlagsName) {
  EXPECT_EQ(parse_duration_ms("10"), 10000u);
  EXPECT_EQ(parse_duration_ms("250ms"), 250u);
  EXPECT_EQ(parse_duration_ms("3s"), 3000u);
  EXPECT_EQ(parse_duration_ms("2m"), 120000u);
  EXPECT_EQ(parse_duration_ms("1h"), 3600000u);
  EXPECT_EQ(parse_duration_ms("0"), 0u);
  for (const char* bad : {"", "s", "-1", "1.5s", "5x", "10 s", "99999999h"}) EXPECT_FALSE(parse_duration_ms(bad)) << bad;
}

}  // namespace
}  // namespace wwjail
