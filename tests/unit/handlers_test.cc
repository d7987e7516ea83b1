// Syscall handlers without a kernel listener: a fake notify channel, fake
// guest memory and a synchronous stand-in for the ring. The handlers still
// resolve and open real paths, beneath a scratch directory.
#include "broker/syscall_handlers.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <sstream>

#include "broker/decision_log.h"
#include "broker/grant_roots.h"
#include "sys/kernel_abi.h"

namespace wwjail {
namespace {

class FakeChannel : public NotifyChannel {
 public:
  bool receive(seccomp_notif&) override { return false; }
  void respond(const seccomp_notif_resp& r) override { responses.push_back(r); }
  bool id_valid(uint64_t) override { return valid; }
  int add_fd(const seccomp_notif_addfd& a) override {
    injected.emplace_back(::dup(static_cast<int>(a.srcfd)));
    return 7;
  }
  bool valid = true;
  std::vector<seccomp_notif_resp> responses;
  std::vector<UniqueFd> injected;
};

class FakeMemory : public GuestMemory {
 public:
  int read(pid_t, uint64_t addr, void* buf, size_t len) override {
    auto it = blobs.find(addr);
    if (it == blobs.end() || it->second.size() < len) return EFAULT;
    std::memcpy(buf, it->second.data(), len);
    return 0;
  }
  int write(pid_t, uint64_t addr, const void* buf, size_t len) override {
    if (addr == 0) return EFAULT;
    written[addr].assign(static_cast<const char*>(buf), len);
    return 0;
  }
  int read_string(pid_t, uint64_t addr, size_t max, std::string& out) override {
    auto it = blobs.find(addr);
    if (it == blobs.end()) return EFAULT;
    out = it->second.c_str();
    return out.size() + 1 > max ? ENAMETOOLONG : 0;
  }
  uint64_t put(const std::string& s) {
    uint64_t addr = 0x1000 * (blobs.size() + 1);
    blobs[addr] = s + '\0';
    return addr;
  }
  std::map<uint64_t, std::string> blobs, written;
};

class SyncOps : public AsyncOps {
 public:
  void openat2(int dirfd, std::string path, open_how how, std::function<void(int)> done) override {
    int fd = kernel::openat2(dirfd, path.c_str(), how);
    done(fd >= 0 ? fd : -errno);
  }
  void connect(int fd, sockaddr_storage addr, socklen_t len, std::shared_ptr<void>,
               std::function<void(int)> done) override {
    done(::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 ? 0 : -errno);
  }
  void sendmsg(int fd, std::shared_ptr<OwnedMessage> m, int flags, std::shared_ptr<void>,
               std::function<void(int)> done) override {
    ssize_t n = ::sendmsg(fd, &m->msg, flags);
    done(n >= 0 ? static_cast<int>(n) : -errno);
  }
};

class Handlers : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wwjail-unit.XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    char real[PATH_MAX];
    ASSERT_TRUE(realpath(tmpl, real));
    root_ = real;
    mkdir((root_ + "/granted").c_str(), 0755);
    mkdir((root_ + "/secret").c_str(), 0755);
    mkdir((root_ + "/writable").c_str(), 0755);
    write_file(root_ + "/granted/f", "granted");
    write_file(root_ + "/secret/f", "secret");
    caps_.add({root_ + "/granted", kRead, true, "--read granted"});
    caps_.add({root_ + "/writable", kWrite, true, "--write writable"});
    roots_ = std::make_unique<GrantRoots>(caps_);
    log_ = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_));
  }
  void TearDown() override { (void)!std::system(("rm -rf '" + root_ + "'").c_str()); }
  static void write_file(const std::string& p, const std::string& s) {
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    (void)!::write(fd, s.data(), s.size());
    ::close(fd);
  }
  SyscallHandlers make(bool landlock = true, bool broker_opens = false) {
    HandlerOptions o;
    o.landlock_active = landlock;
    o.landlock_abi = 7;
    o.broker_performs_opens = broker_opens;
    o.tree_root = getppid();
    return SyscallHandlers(caps_, *roots_, channel_, memory_, ops_, *log_, o);
  }
  seccomp_notif notif(int nr, std::initializer_list<uint64_t> args) {
    seccomp_notif n{};
    n.id = 1;
    n.pid = static_cast<uint32_t>(getpid());
    n.data.nr = nr;
    n.data.arch = AUDIT_ARCH_X86_64;
    int i = 0;
    for (auto a : args) n.data.args[i++] = a;
    return n;
  }
  // The descriptor a broker-performed open gave the guest: inline (the
  // verdict holds it) or through the ring (delivered to the channel), which
  // one depends on whether the lookup was in the dentry cache.
  int performed_fd(Verdict& v) {
    if (v.kind == Verdict::Kind::kInjectFd) return v.fd.get();
    if (v.kind == Verdict::Kind::kDeferred && !channel_.injected.empty()) return channel_.injected.back().get();
    return -1;
  }
  seccomp_notif open_of(const std::string& path, int flags) {
    return notif(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), memory_.put(path), static_cast<uint64_t>(flags), 0644});
  }

  std::string root_;
  StorageCaps caps_;
  std::unique_ptr<GrantRoots> roots_;
  FakeChannel channel_;
  FakeMemory memory_;
  SyncOps ops_;
  std::ostringstream log_text_;
  std::shared_ptr<spdlog::logger> log_;
};

TEST_F(Handlers, AllowedOpenContinuesUnderLandlock) {
  auto h = make();
  EXPECT_EQ(h.handle(open_of(root_ + "/granted/f", O_RDONLY)).kind, Verdict::Kind::kContinue);
}

TEST_F(Handlers, DeniedOpenIsEaccesAndLogged) {
  auto h = make();
  Verdict v = h.handle(open_of(root_ + "/secret/f", O_RDONLY));
  EXPECT_EQ(v.kind, Verdict::Kind::kError);
  EXPECT_EQ(v.err, EACCES);
  EXPECT_NE(log_text_.str().find("denied pid="), std::string::npos);
  EXPECT_NE(log_text_.str().find(root_ + "/secret/f"), std::string::npos);
  // Write on a read grant is denied too.
  EXPECT_EQ(h.handle(open_of(root_ + "/granted/f", O_WRONLY)).err, EACCES);
  EXPECT_EQ(h.handle(open_of(root_ + "/granted/f", O_RDONLY | O_TRUNC)).err, EACCES);
}

TEST_F(Handlers, BrokerPerformsTheOpenAndInjectsTheFd) {
  auto h = make(true, true);
  // Answered inline when the lookup needs no I/O, else through the ring.
  Verdict v = h.handle(open_of(root_ + "/granted/f", O_RDONLY));
  int fd = performed_fd(v);
  ASSERT_GE(fd, 0);
  char buf[16] = {};
  EXPECT_EQ(::pread(fd, buf, sizeof buf, 0), 7);
  EXPECT_STREQ(buf, "granted");
  // No O_NONBLOCK is left behind on the guest's file by the inline attempt.
  EXPECT_EQ(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  channel_.injected.clear();
  // Creating or truncating opens always go through the ring.
  write_file(root_ + "/writable/t", "old");
  Verdict t = h.handle(open_of(root_ + "/writable/t", O_RDWR | O_TRUNC));
  ASSERT_EQ(t.kind, Verdict::Kind::kDeferred);
  ASSERT_EQ(channel_.injected.size(), 1u);
  struct stat st;
  ASSERT_EQ(::fstat(channel_.injected[0].get(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
}

TEST_F(Handlers, WithoutLandlockOpensAreNeverContinued) {
  auto h = make(false, false);
  Verdict opened = h.handle(open_of(root_ + "/granted/f", O_RDONLY));
  EXPECT_NE(opened.kind, Verdict::Kind::kContinue);
  EXPECT_GE(performed_fd(opened), 0);
  // ...and execs are refused outright: Landlock is what makes CONTINUE safe there.
  Verdict v = h.handle(notif(SYS_execve, {memory_.put(root_ + "/granted/f"), 0, 0}));
  EXPECT_EQ(v.kind, Verdict::Kind::kError);
}

TEST_F(Handlers, SymlinkLeavingTheGrantIsDecidedOnItsTarget) {
  ASSERT_EQ(symlink((root_ + "/secret/f").c_str(), (root_ + "/granted/abs").c_str()), 0);
  ASSERT_EQ(symlink("../secret/f", (root_ + "/granted/rel").c_str()), 0);
  ASSERT_EQ(symlink("f", (root_ + "/granted/inside").c_str()), 0);
  auto h = make(true, true);
  for (const char* link : {"/granted/abs", "/granted/rel"}) {
    channel_.responses.clear();
    Verdict v = h.handle(open_of(root_ + link, O_RDONLY));
    ASSERT_EQ(v.kind, Verdict::Kind::kDeferred) << link;
    ASSERT_EQ(channel_.responses.size(), 1u) << link;
    EXPECT_EQ(channel_.responses[0].error, -EACCES) << link;
  }
  EXPECT_TRUE(channel_.injected.empty());
  Verdict inside = h.handle(open_of(root_ + "/granted/inside", O_RDONLY));
  EXPECT_GE(performed_fd(inside), 0);
}

TEST_F(Handlers, BadPointersAndLongPaths) {
  auto h = make();
  EXPECT_EQ(h.handle(notif(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), 0xdead0000, 0, 0})).err, EFAULT);
  EXPECT_EQ(h.handle(open_of(std::string(5000, 'a'), O_RDONLY)).err, ENAMETOOLONG);
  EXPECT_EQ(h.handle(notif(SYS_stat, {memory_.put(root_ + "/granted/f"), 0})).err, EFAULT);
}

TEST_F(Handlers, StaleNotificationIsNotActedOn) {
  auto h = make();
  channel_.valid = false;
  Verdict v = h.handle(notif(SYS_mkdir, {memory_.put(root_ + "/writable/d"), 0755}));
  EXPECT_EQ(v.kind, Verdict::Kind::kError);
  struct stat st;
  EXPECT_NE(::stat((root_ + "/writable/d").c_str(), &st), 0);
  channel_.valid = true;
  EXPECT_EQ(h.handle(notif(SYS_mkdir, {memory_.put(root_ + "/writable/d"), 0755})).kind, Verdict::Kind::kValue);
  EXPECT_EQ(::stat((root_ + "/writable/d").c_str(), &st), 0);
}

TEST_F(Handlers, StatResultIsWrittenToGuestMemory) {
  auto h = make();
  uint64_t buf = 0x900000;
  Verdict v = h.handle(notif(SYS_stat, {memory_.put(root_ + "/granted/f"), buf}));
  ASSERT_EQ(v.kind, Verdict::Kind::kValue);
  ASSERT_EQ(memory_.written[buf].size(), sizeof(struct stat));
  struct stat st;
  std::memcpy(&st, memory_.written[buf].data(), sizeof st);
  EXPECT_EQ(st.st_size, 7);
  EXPECT_EQ(h.handle(notif(SYS_stat, {memory_.put(root_ + "/secret/f"), buf})).err, EACCES);
}

TEST_F(Handlers, DeviceNodesAreNeverCreated) {
  auto h = make();
  Verdict v = h.handle(notif(SYS_mknod, {memory_.put(root_ + "/writable/null"), uint64_t{S_IFCHR | 0600}, uint64_t{makedev(1, 3)}}));
  EXPECT_EQ(v.err, EPERM);
  EXPECT_EQ(h.handle(notif(SYS_mknod, {memory_.put(root_ + "/writable/fifo"), uint64_t{S_IFIFO | 0600}, 0})).kind,
            Verdict::Kind::kValue);
}

TEST_F(Handlers, ForeignArchAndUnknownCallsAreRefused) {
  auto h = make();
  auto n = open_of(root_ + "/granted/f", O_RDONLY);
  n.data.arch = AUDIT_ARCH_I386;
  EXPECT_EQ(h.handle(n).err, ENOSYS);
  EXPECT_EQ(h.handle(notif(SYS_getppid, {})).err, ENOSYS);
}

TEST_F(Handlers, DeliverNeverFallsBackToContinue) {
  FakeChannel ch;
  deliver(ch, 5, Verdict::error(EACCES));
  ASSERT_EQ(ch.responses.size(), 1u);
  EXPECT_EQ(ch.responses[0].error, -EACCES);
  EXPECT_EQ(ch.responses[0].flags, 0u);
  deliver(ch, 6, Verdict::cont());
  EXPECT_EQ(ch.responses[1].flags, static_cast<uint32_t>(SECCOMP_USER_NOTIF_FLAG_CONTINUE));
}

// A ring that completes later, when the test says so.
class LaterOps : public SyncOps {
 public:
  void openat2(int dirfd, std::string path, open_how how, std::function<void(int)> done) override {
    pending.push_back([=, path = std::move(path), done = std::move(done)] {
      int fd = kernel::openat2(dirfd, path.c_str(), how);
      done(fd >= 0 ? fd : -errno);
    });
  }
  std::vector<std::function<void()>> pending;
};

TEST_F(Handlers, DecisionsOfADeferredCallAreLoggedForThatCall) {
  // A call whose open completes later, on the ring, decides again there (a
  // symlink in the grant leads to another grant: EXDEV). Another call is
  // handled meanwhile. The later decision must be logged with its own call,
  // not lost or pinned on the other one: per-call state lives in the call.
  mkdir((root_ + "/other").c_str(), 0755);
  write_file(root_ + "/other/f", "other");
  ASSERT_EQ(symlink("../other/f", (root_ + "/granted/out").c_str()), 0);
  caps_.add({root_ + "/other", kRead, true, "--read other"});
  roots_ = std::make_unique<GrantRoots>(caps_);
  std::ostringstream json;
  auto sink = std::make_shared<spdlog::logger>("json", std::make_shared<spdlog::sinks::ostream_sink_st>(json));
  sink->set_pattern("%v");
  LogOptions lo;
  lo.json = true;
  lo.log_allowed = true;
  DecisionLog decisions(sink, lo);
  LaterOps later;
  HandlerOptions o;
  o.landlock_active = true;
  o.landlock_abi = 7;
  o.broker_performs_opens = true;
  SyscallHandlers h(caps_, *roots_, channel_, memory_, later, *log_, o, nullptr, &decisions);

  seccomp_notif a = open_of(root_ + "/granted/out", O_RDONLY);
  a.id = 11;
  ASSERT_EQ(h.handle(a).kind, Verdict::Kind::kDeferred);
  seccomp_notif b = notif(SYS_newfstatat, {static_cast<uint64_t>(AT_FDCWD), memory_.put(root_ + "/granted/f"),
                                          0x2000, 0});
  b.id = 12;
  h.handle(b);
  ASSERT_EQ(later.pending.size(), 1u);
  later.pending[0]();

  int other_events = 0;
  std::istringstream lines(json.str());
  for (std::string line; std::getline(lines, line);) {
    if (line.find(root_ + "/other/f") == std::string::npos) continue;
    ++other_events;
    EXPECT_NE(line.find("\"syscall\":\"openat\""), std::string::npos) << line;
  }
  EXPECT_EQ(other_events, 1) << json.str();
  EXPECT_EQ(channel_.injected.size(), 1u) << "the deferred open was answered with its descriptor";
}

}  // namespace
}  // namespace wwjail
