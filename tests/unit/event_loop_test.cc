// Both event loops (broker/event_loop.h) against the same contract:
// callbacks run later and on the loop's thread, a blocked operation stalls
// no other, and an operation is performed with the identity of the guest
// the submitting thread acts for. The io_uring cases are skipped where the
// kernel refuses a ring.
#include <fcntl.h>
#include <poll.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/fsuid.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker/async_handoff.h"
#include "broker/epoll_loop.h"
#include "broker/guest_identity.h"
#include "broker/io_uring_refusal.h"
#include "broker/ring_loop.h"
#include "sys/unique_fd.h"

namespace wwjail {
namespace {

class EventLoopTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (std::string(GetParam()) == "epoll") {
      loop_ = std::make_unique<EpollLoop>();
    } else {
      try {
        loop_ = std::make_unique<RingLoop>();
      } catch (const RingUnavailable& e) {
        GTEST_SKIP() << e.what();
      }
    }
    char tmpl[] = "/tmp/wwjail-loop-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_path_ = tmpl;
    ::chmod(tmpl, 0777);
    dir_.reset(::open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dir_.valid());
  }
  void TearDown() override {
    loop_.reset();  // before the files its operations may still hold
    if (!dir_path_.empty()) std::filesystem::remove_all(dir_path_);
  }

  // Runs the loop until `done()`, failing (not hanging) if that takes
  // longer than a generous bound: a stalled loop never gets there.
  void run_until(const std::function<bool()>& done) {
    // The watch outlives this call (a ring keeps polling a closed fd): it
    // owns its timer and flag, and the timer is disarmed on the way out.
    auto timer = std::make_shared<UniqueFd>(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    auto expired = std::make_shared<bool>(false);
    itimerspec limit{};
    limit.it_value.tv_sec = 30;
    ::timerfd_settime(timer->get(), 0, &limit, nullptr);
    loop_->watch_readable(timer->get(), [timer, expired](uint32_t) {
      *expired = true;
      return false;
    });
    loop_->run([&] { return done() || *expired; });
    itimerspec off{};
    ::timerfd_settime(timer->get(), 0, &off, nullptr);
    ASSERT_FALSE(*expired) << "the loop stalled";
  }

  // openat2 refuses a mode without O_CREAT (EINVAL).
  static open_how how(uint64_t flags) {
    open_how h{};
    h.flags = flags | O_CLOEXEC;
    h.mode = (flags & O_CREAT) ? 0600 : 0;
    return h;
  }
  void make_fifo(const char* name) { ASSERT_EQ(::mkfifoat(dir_.get(), name, 0666), 0); }

  std::unique_ptr<EventLoop> loop_;
  std::string dir_path_;
  UniqueFd dir_;
};

TEST_P(EventLoopTest, CompletionRunsLaterOnTheLoopThread) {
  std::optional<int> result;
  std::thread::id ran_on;
  loop_->openat2(AT_FDCWD, "/dev/null", how(O_RDONLY), [&](int fd) {
    result = fd;
    ran_on = std::this_thread::get_id();
  });
  EXPECT_FALSE(result) << "a completion ran inside the call that submitted it";
  run_until([&] { return result.has_value(); });
  ASSERT_TRUE(result);
  EXPECT_GE(*result, 0);
  UniqueFd fd(*result);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST_P(EventLoopTest, FailureIsANegativeErrno) {
  std::optional<int> result;
  loop_->openat2(dir_.get(), "missing", how(O_RDONLY), [&](int r) { result = r; });
  run_until([&] { return result.has_value(); });
  EXPECT_EQ(result, -ENOENT);
}

TEST_P(EventLoopTest, ABlockedFifoOpenStallsNoOtherOperation) {
  // O_CREAT: io_uring, too, performs it in a worker that blocks.
  make_fifo("held");
  std::vector<std::string> order;
  UniqueFd writer, reader;
  loop_->openat2(dir_.get(), "held", how(O_WRONLY | O_CREAT), [&](int fd) {
    writer.reset(fd);
    order.push_back("held");
  });
  loop_->openat2(dir_.get(), "other", how(O_WRONLY | O_CREAT), [&](int fd) {
    UniqueFd other(fd);
    EXPECT_GE(fd, 0);
    order.push_back("other");
    // Only now the FIFO gets a reader: the held open cannot end before.
    reader.reset(::openat(dir_.get(), "held", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  });
  run_until([&] { return order.size() == 2; });
  EXPECT_EQ(order, (std::vector<std::string>{"other", "held"}));
  EXPECT_TRUE(writer.valid());
}

TEST_P(EventLoopTest, SeveralBlockedOpensAtOnce) {
  // More blocked operations than the epoll loop keeps workers for at rest;
  // fewer than io_uring's bound on blocking workers (4 per CPU).
  constexpr int kHeld = 5;
  int held_done = 0;
  bool other_done = false;
  std::vector<UniqueFd> readers;
  for (int i = 0; i < kHeld; ++i) {
    std::string name = "held" + std::to_string(i);
    make_fifo(name.c_str());
    loop_->openat2(dir_.get(), name, how(O_WRONLY | O_CREAT), [&](int fd) {
      UniqueFd f(fd);
      EXPECT_GE(fd, 0);
      ++held_done;
    });
  }
  loop_->openat2(dir_.get(), "other", how(O_WRONLY | O_CREAT), [&](int fd) {
    UniqueFd f(fd);
    EXPECT_EQ(held_done, 0);
    other_done = true;
    for (int i = 0; i < kHeld; ++i)
      readers.emplace_back(::openat(dir_.get(), ("held" + std::to_string(i)).c_str(), O_RDONLY | O_NONBLOCK));
  });
  run_until([&] { return other_done && held_done == kHeld; });
  EXPECT_TRUE(other_done);
  EXPECT_EQ(held_done, kHeld);
}

TEST_P(EventLoopTest, WatchesAreCalledUntilTheyDecline) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  UniqueFd ready(::eventfd(1, EFD_CLOEXEC));  // readable from the start
  int calls = 0;
  bool second_ran = false;
  loop_->watch_readable(rd.get(), [&](uint32_t revents) {
    EXPECT_TRUE(revents & POLLIN);
    char c;
    EXPECT_EQ(::read(rd.get(), &c, 1), 1);
    ++calls;
    if (calls == 1) {
      // A watch added from a callback is served; so is more data.
      loop_->watch_readable(ready.get(), [&](uint32_t) {
        second_ran = true;
        return false;
      });
      EXPECT_EQ(::write(wr.get(), "b", 1), 1);
    }
    return calls < 2;
  });
  EXPECT_EQ(::write(wr.get(), "a", 1), 1);
  run_until([&] { return calls == 2 && second_ran; });
  // Declined: more data calls it no more.
  EXPECT_EQ(::write(wr.get(), "c", 1), 1);
  bool later = false;
  loop_->openat2(AT_FDCWD, "/dev/null", how(O_RDONLY), [&](int fd) {
    UniqueFd f(fd);
    later = true;
  });
  run_until([&] { return later; });
  EXPECT_EQ(calls, 2);
}

// The identity cases need root: only root can take another user's ids.
class EventLoopIdentityTest : public EventLoopTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
    EventLoopTest::SetUp();
  }
  static GuestIdentity nobody() {
    GuestIdentity g;
    g.ruid = g.euid = g.fsuid = 65534;
    g.rgid = g.egid = g.fsgid = 65534;
    g.groups = {65534};
    return g;
  }
  // The credentials of the calling thread, which must be root's again.
  static void expect_root_thread() {
    EXPECT_EQ(::setfsuid(static_cast<uid_t>(-1)), 0);
    EXPECT_EQ(::geteuid(), 0u);
  }
  int open_as(std::optional<GuestIdentity> who, const char* name, uint64_t flags) {
    std::optional<int> result;
    {
      std::optional<ActingAs> acting;
      if (who) acting.emplace(*who);
      loop_->openat2(dir_.get(), name, how(flags), [&](int r) { result = r; });
    }
    run_until([&] { return result.has_value(); });
    if (result && *result >= 0) ::close(*result);
    return result.value_or(-ETIMEDOUT);
  }
};

TEST_P(EventLoopIdentityTest, AnOpenIsPerformedAsTheSubmittersGuest) {
  ASSERT_GE(open_as(nobody(), "by_guest", O_WRONLY | O_CREAT), 0);
  expect_root_thread();
  struct stat st{};
  ASSERT_EQ(::fstatat(dir_.get(), "by_guest", &st, 0), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
  // Positive control, and the worker is the broker again afterwards.
  ASSERT_GE(open_as(std::nullopt, "by_broker", O_WRONLY | O_CREAT), 0);
  ASSERT_EQ(::fstatat(dir_.get(), "by_broker", &st, 0), 0);
  EXPECT_EQ(st.st_uid, 0u);
}

TEST_P(EventLoopIdentityTest, TheGuestIsHeldToPermissionBits) {
  UniqueFd f(::openat(dir_.get(), "root_only", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_TRUE(f.valid());
  EXPECT_EQ(open_as(nobody(), "root_only", O_RDONLY), -EACCES);
  EXPECT_GE(open_as(std::nullopt, "root_only", O_RDONLY), 0);
  EXPECT_EQ(open_as(nobody(), "root_only", O_RDONLY), -EACCES);
}

TEST_P(EventLoopIdentityTest, AConnectCarriesTheGuestsPeerIds) {
  std::string path = dir_path_ + "/sock";
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss{};
  auto* un = reinterpret_cast<sockaddr_un*>(&ss);
  un->sun_family = AF_UNIX;
  std::snprintf(un->sun_path, sizeof un->sun_path, "%s", path.c_str());
  socklen_t len = static_cast<socklen_t>(sizeof(sockaddr_un));
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&ss), len), 0);
  ::chmod(path.c_str(), 0777);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  for (bool as_guest : {true, false}) {
    auto client = std::make_shared<UniqueFd>(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    std::optional<int> result;
    {
      std::optional<ActingAs> acting;
      std::optional<PeerIdsAsGuest> peer;
      if (as_guest) acting.emplace(nobody()), peer.emplace();
      loop_->connect(client->get(), ss, len, client, [&](int r) { result = r; });
    }
    expect_root_thread();
    run_until([&] { return result.has_value(); });
    ASSERT_EQ(result, 0);
    UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ucred cred{};
    socklen_t cl = sizeof cred;
    ASSERT_EQ(::getsockopt(accepted.get(), SOL_SOCKET, SO_PEERCRED, &cred, &cl), 0);
    EXPECT_EQ(cred.uid, as_guest ? 65534u : 0u);
    EXPECT_EQ(cred.gid, as_guest ? 65534u : 0u);
  }
}

TEST_P(EventLoopIdentityTest, HandedOverFromAnotherThreadAsItsGuest) {
  // The notify thread's way in (AsyncHandoff): submitted elsewhere, as the
  // guest that thread acts for; completed on the loop's thread.
  AsyncHandoff handoff(*loop_);
  std::optional<int> result;
  std::thread::id ran_on;
  std::thread notify([&] {
    ActingAs acting(nobody());
    handoff.openat2(dir_.get(), "handed", how(O_WRONLY | O_CREAT), [&](int r) {
      result = r;
      ran_on = std::this_thread::get_id();
    });
  });
  notify.join();
  run_until([&] { return result.has_value(); });
  ASSERT_TRUE(result);
  ASSERT_GE(*result, 0);
  UniqueFd fd(*result);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  struct stat st{};
  ASSERT_EQ(::fstat(fd.get(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  expect_root_thread();
}

INSTANTIATE_TEST_SUITE_P(, EventLoopTest, ::testing::Values("epoll", "io_uring"),
                         [](const auto& info) { return std::string(info.param); });
INSTANTIATE_TEST_SUITE_P(, EventLoopIdentityTest, ::testing::Values("epoll", "io_uring"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace wwjail

namespace wwjail {
namespace {

TEST(IoUringRefusal, NamesTheCauseTheKernelShows) {
  struct Case {
    int err;
    std::optional<int> disabled;
    bool filtered;
    const char* says;
  } cases[] = {
      {ENOSYS, 0, true, "Function not implemented: refused by a seccomp filter around wwjail"},
      {ENOSYS, std::nullopt, false, "this kernel has no io_uring"},
      {EPERM, 2, false, "disabled for everyone by kernel.io_uring_disabled = 2"},
      {EPERM, 2, true, "disabled for everyone by kernel.io_uring_disabled = 2"},
      {EPERM, 1, false, "allows it only to the group kernel.io_uring_group"},
      {EPERM, 0, true, "refused by a seccomp filter"},
      {EINVAL, 0, false, "too old"},
  };
  for (const Case& c : cases) {
    std::string text = io_uring_refusal(c.err, c.disabled, c.filtered);
    EXPECT_NE(text.find(c.says), std::string::npos) << text;
    // The sysctl is blamed only when it is what refused.
    if (c.err == ENOSYS || c.disabled == 0) {
      EXPECT_EQ(text.find("disabled for"), std::string::npos) << text;
    }
  }
}

}  // namespace
}  // namespace wwjail
