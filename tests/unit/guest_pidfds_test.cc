// GuestPidfds (broker/guest_pidfds.h): descriptors taken through cached
// pidfds are always the holding thread's, whatever came before.
#include "broker/guest_pidfds.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace wwjail {
namespace {

void end(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// A child holding `path` open at fd 10 until it is killed, or -1 (and no
// child left behind). The pipe that says it is ready may itself be at 10
// (the cache's pidfds fill the numbers below), so the child moves its end
// out of the way (to 64 or above, numbers no test takes) before it takes 10.
pid_t child_holding(const std::string& path) {
  int ready[2];
  if (::pipe(ready) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    int say = ::fcntl(ready[1], F_DUPFD, 64);
    int fd = ::open(path.c_str(), O_RDONLY);
    if (say < 0 || fd < 0 || ::dup2(fd, 10) != 10) ::_exit(1);
    (void)!::write(say, "r", 1);
    for (;;) ::pause();
  }
  char c;
  ::close(ready[1]);
  bool ok = pid > 0 && ::read(ready[0], &c, 1) == 1;
  ::close(ready[0]);
  if (!ok && pid > 0) end(pid);
  return ok ? pid : -1;
}

// Children that end with the test, however it ends (an assertion that
// returns early would otherwise leave them holding the test's stdout).
struct Children {
  std::vector<pid_t> pids;
  ~Children() {
    for (pid_t c : pids) end(c);
  }
};

ino_t inode_of(int fd) {
  struct stat st{};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

ino_t inode_of(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

int open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n;
}

TEST(GuestPidfds, TakesTheHoldersDescriptorAgainAndAgain) {
  GuestPidfds pidfds;
  pid_t child = child_holding("/etc/hostname");
  ASSERT_GT(child, 0);
  Children kids{{child}};
  for (int i = 0; i < 3; ++i) {
    int fd = pidfds.take_fd(child, 10);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    EXPECT_EQ(inode_of(fd), inode_of("/etc/hostname"));
    EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
    ::close(fd);
  }
  // A descriptor the child does not hold is its EBADF, not another's.
  EXPECT_EQ(pidfds.take_fd(child, 11), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST(GuestPidfds, AGoneThreadIsESRCHNotAStaleDescriptor) {
  GuestPidfds pidfds;
  pid_t child = child_holding("/etc/hostname");
  ASSERT_GT(child, 0);
  int fd = pidfds.take_fd(child, 10);
  if (fd < 0) end(child);
  ASSERT_GE(fd, 0);
  ::close(fd);
  end(child);  // its pidfd stays cached, naming a thread that is gone
  EXPECT_EQ(pidfds.take_fd(child, 10), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_EQ(pidfds.take_fd(0, 10), -1);
  EXPECT_EQ(errno, ESRCH);
}

// Many processes in turn, each holding a different file at the same number:
// each take gives that process's file, as slots are reused and pids come
// round again (32 processes, twice the slots).
TEST(GuestPidfds, EachProcessGetsItsOwnFileAsSlotsTurnOver) {
  GuestPidfds pidfds;
  const char* files[] = {"/etc/hostname", "/etc/passwd", "/etc/group"};
  int before = open_fds();
  for (int i = 0; i < 2 * static_cast<int>(GuestPidfds::kSlots); ++i) {
    std::string path = files[i % 3];
    pid_t child = child_holding(path);
    ASSERT_GT(child, 0);
    Children kid{{child}};
    int fd = pidfds.take_fd(child, 10);
    ASSERT_GE(fd, 0) << i << ": " << std::strerror(errno);
    EXPECT_EQ(inode_of(fd), inode_of(path)) << i;
    ::close(fd);
  }
  // The cache holds at most its slots' descriptors.
  EXPECT_LE(open_fds() - before, static_cast<int>(GuestPidfds::kSlots));
}

// At an open-file limit the cache's own pidfds would exhaust, it lets go of
// them rather than fail the call.
TEST(GuestPidfds, AFullCacheMakesRoomAtTheOpenFileLimit) {
  GuestPidfds pidfds;
  Children kids;
  auto& children = kids.pids;
  for (size_t i = 0; i <= GuestPidfds::kSlots; ++i) {
    pid_t c = child_holding("/etc/hostname");
    ASSERT_GT(c, 0);
    children.push_back(c);
  }
  for (size_t i = 0; i < GuestPidfds::kSlots; ++i) {
    int fd = pidfds.take_fd(children[i], 10);
    ASSERT_GE(fd, 0) << i;
    ::close(fd);
  }
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  rlimit tight = old;
  tight.rlim_cur = 200;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  // Every number below the limit taken but one: the take needs two (its
  // pidfd and the duplicate), so only what the cache lets go makes it work.
  std::vector<int> fillers;
  for (int f; (f = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fillers.push_back(f);
  ASSERT_FALSE(fillers.empty());
  ::close(fillers.back());
  fillers.pop_back();
  int fd = pidfds.take_fd(children.back(), 10);
  int err = errno;
  for (int f : fillers) ::close(f);
  ::setrlimit(RLIMIT_NOFILE, &old);
  ASSERT_GE(fd, 0) << std::strerror(err);
  EXPECT_EQ(inode_of(fd), inode_of("/etc/hostname"));
  ::close(fd);
}

TEST(GuestPidfds, AThreadThatLeadsNoProcessIsTakenFromToo) {
  // The thread that makes a call need not lead its process.
  GuestPidfds pidfds;
  int fd = ::open("/etc/hostname", O_RDONLY);
  ASSERT_GE(fd, 0);
  int hold[2];
  ASSERT_EQ(::pipe(hold), 0);
  std::atomic<pid_t> tid{0};
  std::thread t([&] {
    tid = static_cast<pid_t>(::gettid());
    char c;
    (void)!::read(hold[0], &c, 1);
  });
  while (tid == 0) std::this_thread::yield();
  int got = pidfds.take_fd(tid, fd);
  EXPECT_GE(got, 0) << std::strerror(errno);
  EXPECT_EQ(inode_of(got), inode_of(fd));
  if (got >= 0) ::close(got);
  (void)!::write(hold[1], "x", 1);
  t.join();
  // Gone now, and its cached pidfd says so.
  EXPECT_EQ(pidfds.take_fd(tid, fd), -1);
  EXPECT_EQ(errno, ESRCH);
  ::close(hold[0]);
  ::close(hold[1]);
  ::close(fd);
}

}  // namespace
}  // namespace wwjail
