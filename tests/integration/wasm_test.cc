// WebAssembly guests through the CLI: the same probe built natively and for
// wasm32-wasi, run under wwjail with the same grants. Where the behaviour
// should match, one parameterized test checks both; WASI's own rules
// (preopens, ENOTCAPABLE, traps, an empty environment) have their own.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <unistd.h>

#include <thread>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

// Where the test guests are: WWJAIL_TEST_WASM_DIR overrides the build tree
// (run-unprivileged.sh copies them where another user can read them).
std::string wasm_dir() {
  const char* dir = std::getenv("WWJAIL_TEST_WASM_DIR");
  return dir && *dir ? dir : WASM_GUEST_DIR;
}
std::string wasm_guest(const std::string& name) { return wasm_dir() + "/" + name + ".wasm"; }
std::string native_probe() { return wasm_dir() + "/wasi_probe"; }
bool wasm_available() { return ::access(wasm_guest("wasi_probe").c_str(), R_OK) == 0; }

// Every test compiles into its own cache unless it shares this one.
std::string shared_cache() {
  static ScratchDir dir;  // lives for the test binary's run, removed at its exit
  return dir.path();
}

class Probe : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && !wasm_available()) GTEST_SKIP() << "clang-14/wasi-libc missing: no wasm guests were built";
  }
  bool wasm() const { return GetParam(); }
  RunResult probe(std::vector<std::string> args, std::vector<std::string> op) {
    args.insert(args.begin(), {"--cache", shared_cache()});
    op.insert(op.begin(), wasm() ? wasm_guest("wasi_probe") : native_probe());
    return jail(args, op, 120);
  }
};

TEST_P(Probe, ReadsWhatIsGrantedAndIsDeniedTheRestByTheBroker) {
  ScratchDir d;
  std::string data = d.sub("data");
  d.file("data/f.txt", "hello\n");
  auto r = probe({"--read", data}, {"read", data + "/f.txt"});
  EXPECT_EQ(r.out, "ok hello\n") << r.err;
  // Inside the grant but read-only: the broker refuses, and logs it as for
  // any guest.
  auto w = probe({"--read", data}, {"write", data + "/new.txt", "x"});
  EXPECT_EQ(w.out, "err EACCES\n") << w.err;
  EXPECT_NE(w.err.find("denied pid="), std::string::npos) << w.err;
  EXPECT_NE(w.err.find(data + "/new.txt (need "), std::string::npos) << w.err;
}

TEST_P(Probe, FileOperationsInsideAWriteGrant) {
  ScratchDir d;
  std::string w = d.sub("w");
  auto run_op = [&](std::vector<std::string> op) { return probe({"--write", w}, op).out; };
  EXPECT_EQ(run_op({"write", w + "/a", "12345"}), "ok\n");
  EXPECT_EQ(run_op({"append", w + "/a", "678"}), "ok\n");
  EXPECT_EQ(run_op({"read", w + "/a"}), "ok 12345678\n");
  EXPECT_EQ(run_op({"pread", w + "/a", "2", "3"}), "ok 345\n");
  EXPECT_EQ(run_op({"seek-tell", w + "/a"}), "ok end=8 at=2\n");
  EXPECT_EQ(run_op({"accmode", w + "/a"}), "ok ro wo\n");
  EXPECT_EQ(run_op({"truncate", w + "/a", "4"}), "ok\n");
  EXPECT_EQ(run_op({"stat", w + "/a"}), "ok size=4 file\n");
  EXPECT_EQ(run_op({"utimes", w + "/a"}), "ok mtime=2000000\n");
  EXPECT_EQ(run_op({"mkdir", w + "/sub"}), "ok\n");
  EXPECT_EQ(run_op({"mkdir", w + "/sub"}), "err EEXIST\n");
  EXPECT_EQ(run_op({"rename", w + "/a", w + "/sub/b"}), "ok\n");
  EXPECT_EQ(run_op({"link", w + "/sub/b", w + "/c"}), "ok\n");
  EXPECT_EQ(run_op({"symlink", "sub/b", w + "/l"}), "ok\n");
  EXPECT_EQ(run_op({"readlink", w + "/l"}), "ok sub/b\n");
  EXPECT_EQ(run_op({"lstat", w + "/l"}), "ok size=5 link\n");
  EXPECT_EQ(run_op({"stat", w + "/l"}), "ok size=4 file\n");  // followed
  ASSERT_EQ(::mkfifo((w + "/fifo").c_str(), 0600), 0);
  EXPECT_EQ(run_op({"stat", w + "/fifo"}), "ok size=0 other\n");
  EXPECT_EQ(run_op({"read", w + "/l"}), "ok 1234\n");
  EXPECT_EQ(run_op({"rmdir", w + "/sub"}), "err ENOTEMPTY\n");
  EXPECT_EQ(run_op({"unlink", w + "/sub/b"}), "ok\n");
  EXPECT_EQ(run_op({"rmdir", w + "/sub"}), "ok\n");
  EXPECT_EQ(run_op({"read", w + "/missing"}), "err ENOENT\n");
  ::unlink((w + "/fifo").c_str());
  std::string listing = run_op({"list", w});
  EXPECT_TRUE(listing == "ok c l\n" || listing == "ok l c\n") << listing;
}

TEST_P(Probe, ClocksRandomSleepArgsAndExitStatus) {
  EXPECT_EQ(probe({}, {"clock"}).out, "ok\n");
  EXPECT_EQ(probe({}, {"random", "32"}).out, "ok\n");
  EXPECT_EQ(probe({}, {"sleep", "30"}).out, "ok\n");
  EXPECT_EQ(probe({}, {"args", "a b", "", "c"}).out, "ok a b||c\n");
  EXPECT_EQ(probe({}, {"exit", "42"}).exit_code, 42);
}

TEST_P(Probe, DescriptorCallsPollAndLongDirectories) {
  ScratchDir d;
  std::string w = d.sub("w");
  EXPECT_EQ(probe({"--write", w}, {"misc", w + "/m"}).out, "ok\n");
  // Enough entries that a listing takes several fd_readdir calls.
  EXPECT_EQ(probe({"--write", w}, {"many", w, "300"}).out, "ok count=300\n");
  EXPECT_EQ(probe({"--write", w}, {"errors", w}).out,
            "ok read-closed=EBADF fstat-closed=EBADF seek-whence=EINVAL open-missing=ENOENT "
            "open-below-file=ENOTDIR unlink-dir=EISDIR mkdir-existing=EEXIST unlink-file-slash=ENOTDIR rmdir-file=ENOTDIR "
            "excl-existing=EEXIST dir-for-writing=EISDIR\n");
  d.file("w/one", "first\n");
  d.file("w/two", "second\n");
  EXPECT_EQ(probe({"--read", w}, {"renumber", w + "/one", w + "/two"}).out, "ok first\n");
  // A signal the guest raises ends it as it would end a native process.
  EXPECT_EQ(probe({}, {"raise", "15"}).exit_code, 128 + 15);
}

INSTANTIATE_TEST_SUITE_P(NativeAndWasm, Probe, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "wasm" : "native"; });

class Wasm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!wasm_available()) GTEST_SKIP() << "clang-14/wasi-libc missing: no wasm guests were built";
  }
  RunResult run_wasm(std::vector<std::string> args, std::vector<std::string> op, const std::string& cache = "") {
    args.insert(args.begin(), {"--cache", cache.empty() ? shared_cache() : cache});
    op.insert(op.begin(), wasm_guest("wasi_probe"));
    return jail(args, op, 120);
  }
};

TEST_F(Wasm, PathsNeverLeaveAPreopen) {
  ScratchDir d;
  std::string data = d.sub("data");
  std::string secret = d.file("secret.txt", "secret\n");
  d.file("data/f.txt", "f\n");
  ASSERT_EQ(::symlink(secret.c_str(), (data + "/abs").c_str()), 0);
  ASSERT_EQ(::symlink("../secret.txt", (data + "/rel").c_str()), 0);
  ASSERT_EQ(::symlink("loop", (data + "/loop").c_str()), 0);
  ASSERT_EQ(::symlink("f.txt", (data + "/inside").c_str()), 0);
  auto read = [&](const std::string& path) { return run_wasm({"--read", data}, {"read", path}).out; };
  EXPECT_EQ(read(data + "/inside"), "ok f\n");  // positive control
  EXPECT_EQ(read(data + "/../secret.txt"), "err ENOTCAPABLE\n");
  EXPECT_EQ(read(data + "/abs"), "err ENOTCAPABLE\n");
  EXPECT_EQ(read(data + "/rel"), "err ENOTCAPABLE\n");
  EXPECT_EQ(read(data + "/loop"), "err ELOOP\n");
  // No preopen of its own holds it: the guest's /tmp (its private temp
  // dir) is the longest match, where no such file is.
  EXPECT_EQ(read(secret), "err ENOENT\n");
  // Even with a grant on the secret's directory, a preopen stays a preopen:
  // the file is reachable only under its own name.
  EXPECT_EQ(run_wasm({"--read", data, "--read", d.path() + "::/outer"}, {"read", "/outer/secret.txt"}).out,
            "ok secret\n");
}

TEST_F(Wasm, DirectoriesAreNotSeekableAndRightsAreNotPromised) {
  ScratchDir d;
  std::string w = d.sub("w");
  d.file("w/f", "data");
  // Linux seeks a directory; WASI says EBADF, and a directory's rights say
  // neither seek nor truncation (tests skip what an fdstat does not offer).
  EXPECT_EQ(run_wasm({"--write", w}, {"dir-seek", w}).out, "err EBADF\n");
  EXPECT_EQ(run_wasm({"--write", w}, {"rights", w}).out,
            "ok seek=0 tell=0 set_size=0 path_set_size=0 narrow=ENOTSUP\n");
  // Positive control: a file has the seek rights (not truncation: the probe
  // opens it read-only). Rights cannot be narrowed (they
  // grant nothing; the broker decides), so narrowing is refused, never a
  // success that changes nothing.
  EXPECT_EQ(run_wasm({"--write", w}, {"rights", w + "/f"}).out,
            "ok seek=1 tell=1 set_size=0 path_set_size=1 narrow=ENOTSUP\n");
  // A symlink with an absolute target could only ever fail beneath a
  // preopen: refused when made, as other runtimes do; a relative one is made.
  EXPECT_EQ(run_wasm({"--write", w}, {"symlink", "/etc/passwd", w + "/abs"}).out, "err EPERM\n");
  EXPECT_EQ(run_wasm({"--write", w}, {"symlink", "f", w + "/rel"}).out, "ok\n");
  struct stat st{};
  EXPECT_NE(::lstat((w + "/abs").c_str(), &st), 0);
}

TEST_F(Wasm, GuestNamesAndTheTempDir) {
  ScratchDir d;
  std::string data = d.sub("data");
  d.file("data/f.txt", "mapped\n");
  EXPECT_EQ(run_wasm({"--read", data + "::/data"}, {"read", "/data/f.txt"}).out, "ok mapped\n");
  EXPECT_EQ(run_wasm({"--read", "?" + data + "::/data"}, {"read", "/data/f.txt"}).out, "ok mapped\n");
  EXPECT_EQ(run_wasm({}, {"write", "/tmp/scratch", "x"}).out, "ok\n");
  EXPECT_EQ(run_wasm({}, {"read", data + "/f.txt"}).out, "err ENOENT\n");  // looked up in the guest's own /tmp
  EXPECT_EQ(run_wasm({}, {"read", "/etc/hostname"}).out, "err ENOTCAPABLE\n");  // in no preopen at all
  auto bad = run_wasm({"--read", data + "::relative"}, {"exit", "0"});
  EXPECT_EQ(bad.exit_code, 125);
  EXPECT_NE(bad.err.find("must be absolute"), std::string::npos) << bad.err;
  auto native = jail({"--read", data + "::/data"}, {native_probe(), "exit", "0"});
  EXPECT_EQ(native.exit_code, 125);
  EXPECT_NE(native.err.find("is for WebAssembly modules"), std::string::npos) << native.err;
}

TEST_F(Wasm, NothingIsInheritedFromTheEnvironment) {
  EXPECT_EQ(run_wasm({}, {"env", "HOME"}).out, "ok (unset)\n");
  EXPECT_EQ(run_wasm({}, {"env", "PATH"}).out, "ok (unset)\n");
  EXPECT_EQ(run_wasm({"--env", "HOME=/home/guest"}, {"env", "HOME"}).out, "ok /home/guest\n");
  // Positive control: the same probe natively inherits.
  EXPECT_NE(jail({}, {native_probe(), "env", "PATH"}).out, "ok (unset)\n");
}

TEST_F(Wasm, TrapsEndWith134AndNameTheTrap) {
  struct Case {
    const char* op;
    const char* says;
  } cases[] = {{"trap-unreachable", "unreachable executed in function main"},
               {"trap-oob", "out-of-bounds memory access in function main"},
               {"trap-div0", "integer divide by zero in function main"},
               {"trap-stack", "call stack exhausted in function recurse"}};
  for (const auto& c : cases) {
    auto r = run_wasm({}, {c.op});
    EXPECT_EQ(r.exit_code, 134) << c.op << ": " << r.err;
    EXPECT_EQ(r.err, std::string("wwjail: wasm trap: ") + c.says + "\n") << c.op;
  }
  // Positive control: the same module without a trap exits 0.
  EXPECT_EQ(run_wasm({}, {"exit", "0"}).exit_code, 0);
}

TEST_F(Wasm, OnlyFaultsInTheModulesCodeAreTraps) {
  // A SIGSEGV or SIGBUS that no instruction of the module raised (here one
  // the host raises for the guest, as it would be for a fault in the WASI
  // host or libc) ends the runner as the crash it is: reported as a trap,
  // it hid host memory corruption behind "call stack exhausted".
  auto segv = run_wasm({}, {"raise", "11"});
  EXPECT_EQ(segv.exit_code, 128 + SIGSEGV) << segv.err;
  EXPECT_EQ(segv.err.find("wasm trap"), std::string::npos) << segv.err;
  auto bus = run_wasm({}, {"raise", "7"});
  EXPECT_EQ(bus.exit_code, 128 + SIGBUS) << bus.err;
  EXPECT_EQ(bus.err.find("wasm trap"), std::string::npos) << bus.err;
  // Positive control: a fault in the module's own code is still its trap.
  auto oob = run_wasm({}, {"trap-oob"});
  EXPECT_EQ(oob.exit_code, 134);
  EXPECT_EQ(oob.err, "wwjail: wasm trap: out-of-bounds memory access in function main\n");
}

TEST_F(Wasm, AGuestCannotStopItself) {
  // proc_raise(SIGSTOP) stopped the runner, and wwjail then ignored SIGTERM
  // and SIGINT until someone sent SIGCONT. Stop signals are refused (WASI
  // numbers: 18 STOP, 19 TSTP, 20 TTIN, 21 TTOU).
  for (const char* sig : {"18", "19", "20", "21"}) {
    auto r = jail({"--cache", shared_cache()}, {wasm_guest("wasi_probe"), "raise", sig}, 30);
    EXPECT_EQ(r.out, "err ENOTSUP\n") << sig << ": " << r.err;
    EXPECT_EQ(r.exit_code, 1) << sig;
  }
  // Positive control: other signals are raised (SIGCONT is harmless).
  EXPECT_EQ(run_wasm({}, {"raise", "17"}).out, "ok survived\n");
}

TEST_F(Wasm, MaxMemoryBoundsLinearMemory) {
  EXPECT_EQ(run_wasm({}, {"alloc", "32"}).out, "ok allocated\n");
  EXPECT_EQ(run_wasm({"--max-memory", "16M"}, {"alloc", "32"}).out, "ok failed\n");
  // The policy key does the same.
  ScratchDir d;
  std::string policy = d.file("p.toml", "[limits]\nwasm_memory = \"16M\"\n");
  EXPECT_EQ(run_wasm({"-p", policy}, {"alloc", "32"}).out, "ok failed\n");
  auto tiny = run_wasm({"--max-memory", "64K"}, {"exit", "0"});
  EXPECT_EQ(tiny.exit_code, 125);
  EXPECT_NE(tiny.err.find("bytes of linear memory to start, more than the 65536 allowed"), std::string::npos)
      << tiny.err;
}

TEST_F(Wasm, ListenSocketsArriveAfterThePreopens) {
  // One preopen (/tmp), so the listening socket is fd 4.
  int probe_port;
  {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    probe_port = ntohs(a.sin_port);
    ::close(s);
  }
  std::string spec = "tcp:127.0.0.1:" + std::to_string(probe_port);
  // Compiled first: the client below gives up after a few seconds, and a
  // compile on a loaded machine can take longer.
  ASSERT_EQ(run_wasm({}, {"exit", "0"}).exit_code, 0);
  std::string reply;
  std::thread client([&] {
    for (int attempt = 0; attempt < 200 && reply.empty(); ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      int c = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(probe_port));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        ::send(c, "ping\n", 5, 0);
        char buf[16] = {};
        ssize_t n = ::recv(c, buf, sizeof buf - 1, 0);
        if (n > 0) reply.assign(buf, static_cast<size_t>(n));
      }
      ::close(c);
    }
  });
  auto r = run_wasm({"--listen", spec}, {"echo-accept", "4"});
  client.join();
  EXPECT_EQ(r.out, "ok\n") << r.err;
  EXPECT_EQ(reply, "ping\n");
}

TEST_F(Wasm, CompiledOnceThenCachedAndShippable) {
  ScratchDir d;
  std::string cache = d.sub("cache");
  auto first = run_wasm({"--log-level", "info"}, {"exit", "0"}, cache);
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("compiled " + wasm_guest("wasi_probe")), std::string::npos) << first.err;
  auto second = run_wasm({"--log-level", "info"}, {"exit", "0"}, cache);
  EXPECT_EQ(second.err.find("wwjail: info: compiled "), std::string::npos) << second.err;
  // Precompiled: runs where no compiler is (an empty PATH finds none).
  std::string artifact = d.path() + "/probe.wasmso";
  auto compiled = run({wwjail_bin(), "compile", wasm_guest("wasi_probe"), "-o", artifact, "--cache", cache});
  EXPECT_EQ(compiled.exit_code, 0) << compiled.err;
  auto shipped = run({"/usr/bin/env", "PATH=/nonexistent", wwjail_bin(), "--", artifact, "args", "x"});
  EXPECT_EQ(shipped.out, "ok x\n") << shipped.err;
  auto no_compiler = run({"/usr/bin/env", "PATH=/nonexistent", wwjail_bin(), "--cache", d.sub("empty"), "--",
                          wasm_guest("wasi_probe"), "exit", "0"});
  EXPECT_EQ(no_compiler.exit_code, 125);
  EXPECT_NE(no_compiler.err.find("wwjail compile"), std::string::npos) << no_compiler.err;
}

TEST_F(Wasm, UnknownImportsAndWrongSignaturesAreRefusedByName) {
  ScratchDir d;
  auto r = jail({"--cache", d.path()}, {wasm_guest("foreign_import")});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("imports env.launch_missiles, which wwjail does not provide"), std::string::npos) << r.err;
  auto sig = jail({"--cache", d.path()}, {wasm_guest("bad_signature")});
  EXPECT_EQ(sig.exit_code, 125);
  EXPECT_NE(sig.err.find("imports wasi_snapshot_preview1.sock_shutdown as (i32) -> i32, but WASI's sock_shutdown "
                         "is (i32, i32) -> i32"),
            std::string::npos)
      << sig.err;
}

TEST_F(Wasm, NamesThatWouldBeCodeAreRefusedOrDropped) {
  ScratchDir d;
  auto evil = jail({"--cache", d.path()}, {wasm_guest("export_injection")});
  EXPECT_EQ(evil.exit_code, 125);
  EXPECT_NE(evil.err.find("an export name holds control characters or \"*/\""), std::string::npos) << evil.err;
  auto odd = jail({"--cache", d.path()}, {wasm_guest("odd_names")});
  EXPECT_EQ(odd.exit_code, 0) << odd.err;
  EXPECT_NE(odd.err.find("name section holds names wwjail does not pass to wasm2c; dropped"), std::string::npos)
      << odd.err;
}

TEST_F(Wasm, ExportsTheRunnerBindsMustBeOfTheirKind) {
  // Each would have handed the runner something else than it takes the
  // export for (a table's header read as a memory is arbitrary reads and
  // writes of the runner): refused before anything is compiled.
  struct Case {
    const char* module;
    const char* says;
  } cases[] = {
      {"export_table_as_memory", "its export \"memory\" is a table, not a memory"},
      {"export_global_as_memory", "its export \"memory\" is a global, not a memory"},
      {"export_func_as_memory", "its export \"memory\" is a function, not a memory"},
      {"start_is_a_global", "its export \"_start\" is a global, not a function"},
      {"start_with_params", "its export \"_start\" takes 1 parameters and returns 0 results"},
      {"import_memory", "it imports wasi_snapshot_preview1.memory as a memory; wwjail provides only WASI's functions"},
  };
  ScratchDir d;
  for (const auto& c : cases) {
    auto r = jail({"--cache", d.path()}, {wasm_guest(c.module)});
    EXPECT_EQ(r.exit_code, 125) << c.module << ": " << r.err;
    EXPECT_NE(r.err.find(wasm_guest(c.module) + " cannot be compiled: " + c.says), std::string::npos)
        << c.module << ": " << r.err;
  }
  auto compiled = run({"/usr/bin/find", d.path(), "-name", "*.so"});
  EXPECT_EQ(compiled.out, "") << "nothing was to be compiled";
  // Positive control: a module binding both as they should be runs.
  EXPECT_EQ(jail({"--cache", d.path()}, {wasm_guest("grow_at_start")}).exit_code, 9);
}

TEST_F(Wasm, MemoryLimitHoldsFromTheStartFunctionOn) {
  ScratchDir d;
  EXPECT_EQ(jail({"--cache", d.path()}, {wasm_guest("grow_at_start")}).exit_code, 9);  // positive control
  EXPECT_EQ(jail({"--cache", d.path(), "--max-memory", "16M"}, {wasm_guest("grow_at_start")}).exit_code, 7);
}

TEST_F(Wasm, OnlyAPrivateCacheIsTrusted) {
  ScratchDir d;
  std::string shared = d.sub("shared");
  ASSERT_EQ(::chmod(shared.c_str(), 0777), 0);
  auto r = jail({"--cache", shared}, {wasm_guest("wasi_probe"), "exit", "0"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("is not private"), std::string::npos) << r.err;
  // A cached module someone else could have written is not loaded.
  std::string mine = d.sub("mine");
  EXPECT_EQ(jail({"--cache", mine}, {wasm_guest("wasi_probe"), "exit", "0"}).exit_code, 0);
  auto listing = run({"/usr/bin/find", mine + "/wasm", "-name", "*.so"});
  std::string artifact = listing.out.substr(0, listing.out.find('\n'));
  ASSERT_FALSE(artifact.empty());
  ASSERT_EQ(::chmod(artifact.c_str(), 0666), 0);
  auto tampered = jail({"--cache", mine}, {wasm_guest("wasi_probe"), "exit", "0"});
  EXPECT_EQ(tampered.exit_code, 125);
  EXPECT_NE(tampered.err.find("is not private"), std::string::npos) << tampered.err;
}

TEST_F(Wasm, TheCachesAncestorsAreCheckedToo) {
  ScratchDir d;
  // A directory above the cache that others may write: they could rename
  // the cache away and put their own in its place.
  std::string open = d.sub("open");
  ASSERT_EQ(::chmod(open.c_str(), 0777), 0);
  auto r = jail({"--cache", open + "/cache"}, {wasm_guest("wasi_probe"), "exit", "0"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("the wasm cache is beneath " + open + ", which someone other than you and root may write"),
            std::string::npos)
      << r.err;
  // Positive controls: a sticky one (as /tmp) cannot be used so, and a
  // symlink the user wrote in --cache is resolved once, then not followed.
  std::string sticky = d.sub("sticky");
  ASSERT_EQ(::chmod(sticky.c_str(), 01777), 0);
  EXPECT_EQ(jail({"--cache", sticky + "/cache"}, {wasm_guest("wasi_probe"), "exit", "0"}).exit_code, 0);
  ASSERT_EQ(::symlink(sticky.c_str(), (d.path() + "/link").c_str()), 0);
  EXPECT_EQ(jail({"--cache", d.path() + "/link/cache"}, {wasm_guest("wasi_probe"), "exit", "0"}).exit_code, 0);
  // Inside the cache no symlink is followed.
  std::string elsewhere = d.sub("elsewhere");
  ASSERT_EQ(::mkdir((d.path() + "/linked").c_str(), 0700), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), (d.path() + "/linked/wasm").c_str()), 0);
  auto linked = jail({"--cache", d.path() + "/linked"}, {wasm_guest("wasi_probe"), "exit", "0"});
  EXPECT_EQ(linked.exit_code, 125);
  EXPECT_NE(linked.err.find("symbolic links are not followed here"), std::string::npos) << linked.err;
}

TEST_F(Wasm, TheRunnerLoadsOnlyTheFileThatWasChecked) {
  // The runner is told the device and inode of the artifact wwjail checked
  // and loads it through a descriptor matched against them: a file put in
  // its place meanwhile is refused.
  ScratchDir d;
  std::string artifact = d.path() + "/probe.so";
  auto compiled = run({wwjail_bin(), "compile", wasm_guest("wasi_probe"), "-o", artifact, "--cache", shared_cache()});
  ASSERT_EQ(compiled.exit_code, 0) << compiled.err;
  struct stat st{};
  ASSERT_EQ(::stat(artifact.c_str(), &st), 0);
  std::string runner = wwjail_bin().substr(0, wwjail_bin().rfind('/')) + "/wwjail-wasm-run";
  auto runner_with = [&](const std::string& id) {
    return run({runner, "--module", artifact, "--module-id", id, "--", "probe", "args", "x"});
  };
  EXPECT_EQ(runner_with(std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).out, "ok x\n");  // control
  auto other = runner_with(std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1));
  EXPECT_EQ(other.exit_code, 125);
  EXPECT_NE(other.err.find("is not the compiled module wwjail checked"), std::string::npos) << other.err;
  // A symlink in the artifact's place is not followed.
  std::string link = d.path() + "/link.so";
  ASSERT_EQ(::symlink(artifact.c_str(), link.c_str()), 0);
  auto via_link = run({runner, "--module", link, "--module-id", std::to_string(st.st_dev) + ":" +
                       std::to_string(st.st_ino), "--", "probe", "exit", "0"});
  EXPECT_EQ(via_link.exit_code, 125) << via_link.err;
}

TEST_F(Wasm, FeaturesTheTierLacksAreNamed) {
  ScratchDir d;
  auto tail = jail({"--cache", d.path()}, {wasm_guest("tail_call")});
  EXPECT_EQ(tail.exit_code, 125);
  EXPECT_NE(tail.err.find("uses the WebAssembly tail-call proposal"), std::string::npos) << tail.err;
  auto simd = jail({"--cache", d.path()}, {wasm_guest("simd_sum")});
  EXPECT_EQ(simd.exit_code, 125);
  EXPECT_NE(simd.err.find("uses SIMD instructions that wabt's wasm2c cannot translate"), std::string::npos)
      << simd.err;
  // Nothing half-made is left in the cache.
  auto entries = run({"/usr/bin/find", d.path(), "-mindepth", "2"});
  EXPECT_EQ(entries.out, "") << entries.out;
}

}  // namespace
}  // namespace wwjail::testing
