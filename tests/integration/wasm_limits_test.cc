// What a WebAssembly module may cost: modules that declare more than any
// engine compiles are refused before translating, and the compile steps
// themselves run under limits that name themselves when hit. Modules are
// written here byte by byte, as no toolchain would emit them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

std::string wasm_dir() {
  const char* dir = std::getenv("WWJAIL_TEST_WASM_DIR");
  return dir && *dir ? dir : WASM_GUEST_DIR;
}
std::string wasm_guest(const std::string& name) { return wasm_dir() + "/" + name + ".wasm"; }
bool wasm_available() { return ::access((wasm_dir() + "/wasi_probe.wasm").c_str(), R_OK) == 0; }

// The WebAssembly binary format, as much as these modules need.
std::string leb(uint64_t n) {
  std::string out;
  do {
    uint8_t b = n & 0x7f;
    n >>= 7;
    out += static_cast<char>(n ? b | 0x80 : b);
  } while (n);
  return out;
}
std::string section(uint8_t id, const std::string& content) {
  return std::string(1, static_cast<char>(id)) + leb(content.size()) + content;
}
std::string name(const std::string& s) { return leb(s.size()) + s; }

// A WASI command whose _start (function 1) declares `locals` i32 locals and
// runs `nops` nop instructions, then exits with status 0.
std::string command_module(uint64_t locals, size_t nops = 0) {
  std::string m("\0asm\1\0\0\0", 8);
  m += section(1, leb(2) + std::string("\x60\x01\x7f\x00", 4) + std::string("\x60\x00\x00", 3));
  m += section(2, leb(1) + name("wasi_snapshot_preview1") + name("proc_exit") + std::string("\0\0", 2));
  m += section(3, leb(1) + std::string("\x01"));
  m += section(5, leb(1) + std::string("\x00\x01", 2));
  m += section(7, leb(2) + name("memory") + std::string("\x02\x00", 2) + name("_start") + std::string("\x00\x01", 2));
  std::string body = locals ? leb(1) + leb(locals) + "\x7f" : leb(0);
  body += std::string(nops, '\x01');
  body += std::string("\x41\x00\x10\x00\x0b", 5);  // i32.const 0; call $proc_exit; end
  m += section(10, leb(1) + leb(body.size()) + body);
  return m;
}

// A WASI command whose _start is one long straight run of arithmetic on
// two locals: small to translate, slow to optimise (cc -O2 takes several
// CPU seconds on 100000 rounds), so it reaches each compile limit.
std::string slow_to_compile_module(int rounds) {
  std::string m("\0asm\1\0\0\0", 8);
  m += section(1, leb(2) + std::string("\x60\x01\x7f\x00", 4) + std::string("\x60\x00\x00", 3));
  m += section(2, leb(1) + name("wasi_snapshot_preview1") + name("proc_exit") + std::string("\0\0", 2));
  m += section(3, leb(1) + std::string("\x01"));
  m += section(5, leb(1) + std::string("\x00\x01", 2));
  m += section(7, leb(2) + name("memory") + std::string("\x02\x00", 2) + name("_start") + std::string("\x00\x01", 2));
  std::string body = leb(1) + leb(2) + "\x7f";
  for (int k = 0; k < rounds; ++k) {
    // l1 = (l0 * l1) ^ k; l0 = rotl(l1, 7)
    body += std::string("\x20\x00\x20\x01\x6c\x41", 6) + leb(k % 64) + std::string("\x73\x21\x01", 3);
    body += std::string("\x20\x01\x41\x07\x77\x21\x00", 7);
  }
  body += std::string("\x41\x00\x10\x00\x0b", 5);
  m += section(10, leb(1) + leb(body.size()) + body);
  return m;
}

class WasmLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!wasm_available()) GTEST_SKIP() << "clang-14/wasi-libc missing: no wasm guests were built";
  }
  ScratchDir d;
  RunResult run_module(const std::string& file, const std::string& bytes) {
    return jail({"--cache", d.path() + "/cache"}, {d.file(file, bytes)}, 120);
  }
};

TEST_F(WasmLimits, HugeLocalCountsAreRefusedBeforeTranslating) {
  // 101 bytes declaring 20 million locals: wasm2c and cc took 170 s and
  // 9 GiB on it. Refused by the count alone.
  std::string huge = command_module(20000000);
  ASSERT_LT(huge.size(), 110u);
  auto r = run_module("huge.wasm", huge);
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_NE(r.err.find("huge.wasm cannot be compiled: function 1 declares 20000000 locals or more, more than the "
                       "50000 wwjail compiles"),
            std::string::npos)
      << r.err;
  // One over the limit, and the most a function may declare (positive
  // control: the limit is where engines put it, not lower).
  EXPECT_EQ(run_module("over.wasm", command_module(50001)).exit_code, 125);
  auto most = run_module("most.wasm", command_module(50000));
  EXPECT_EQ(most.exit_code, 0) << most.err;
}

TEST_F(WasmLimits, FunctionBodiesOverTheEngineLimitAreRefused) {
  auto r = run_module("long.wasm", command_module(0, 7654321));
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_NE(r.err.find("long.wasm cannot be compiled: function 1's body is 7654327 bytes, more than the 7654321 "
                       "wwjail compiles"),
            std::string::npos)
      << r.err;
  auto fine = run_module("short.wasm", command_module(0, 1000));
  EXPECT_EQ(fine.exit_code, 0) << fine.err;
}

TEST_F(WasmLimits, CompileStepsStopAtTheirLimitsAndSayWhich) {
  std::string module = d.file("slow.wasm", slow_to_compile_module(100000));
  auto compile = [&](const std::string& limits) {
    return run({"/usr/bin/env", "WWJAIL_WASM_COMPILE_LIMITS=" + limits, wwjail_bin(), "--cache", d.path() + "/cache",
                "--", module},
               "", 300);
  };
  struct Case {
    const char* limits;
    const char* says;
  } cases[] = {
      {"memory=100M", "wasm2c hit the memory limit of 100 MiB per process"},
      {"output=1M", "wasm2c hit the output size limit of 1 MiB"},
      {"cpu=1", "the C compiler hit the CPU time limit of 1 s per process"},
      {"wall=2,cpu=600", "the C compiler hit the wall-clock limit of 2 s"},
  };
  for (const auto& c : cases) {
    auto r = compile(c.limits);
    EXPECT_EQ(r.exit_code, 125) << c.limits << ": " << r.err;
    EXPECT_NE(r.err.find("slow.wasm cannot be compiled: " + std::string(c.says)), std::string::npos)
        << c.limits << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
  auto bad = compile("speed=3");
  EXPECT_EQ(bad.exit_code, 125);
  EXPECT_NE(bad.err.find("WWJAIL_WASM_COMPILE_LIMITS: 'speed=3': write NAME=VALUE"), std::string::npos) << bad.err;
  // Nothing half-made is left behind, and with room enough the same
  // module compiles and runs (positive control).
  auto left = run({"/usr/bin/find", d.path() + "/cache", "-mindepth", "2"});
  EXPECT_EQ(left.out, "") << left.out;
  auto fine = compile("memory=4G,cpu=600,wall=600");
  EXPECT_EQ(fine.exit_code, 0) << fine.err;
}

TEST_F(WasmLimits, TablesCountTowardMaxMemory) {
  auto grow = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--cache", d.path() + "/cache"});
    return jail(args, {wasm_guest("table_grow")}, 120);
  };
  // Exit status: a bit per grow granted (1: 1000 entries, 2 and 4: 150
  // million). 150 million entries is past the engines' table limit, budget
  // or not; it took 3.5 GiB per table.
  EXPECT_EQ(grow({}).exit_code, 1);
  EXPECT_EQ(grow({"--max-memory", "100000"}).exit_code, 1);  // positive control: room for 1000 entries
  EXPECT_EQ(grow({"--max-memory", "70000"}).exit_code, 0);   // the memory's page took most of it
  auto none = grow({"--max-memory", "65536"});
  EXPECT_EQ(none.exit_code, 125);
  EXPECT_NE(none.err.find("the module needs 24 bytes of tables to start, more than the 0 allowed"), std::string::npos)
      << none.err;
  // A table declared large is allocated before the module's code runs.
  EXPECT_EQ(jail({"--cache", d.path() + "/cache"}, {wasm_guest("table_at_start")}).exit_code, 3);
  auto big = jail({"--cache", d.path() + "/cache", "--max-memory", "16M"}, {wasm_guest("table_at_start")});
  EXPECT_EQ(big.exit_code, 125);
  EXPECT_NE(big.err.find("the module needs 120000000 bytes of tables to start"), std::string::npos) << big.err;
}

TEST_F(WasmLimits, PathLengthsAreCheckedBeforeAnythingIsCopied) {
  // The runner's address space holds the linear memory's 8 GiB reservation
  // and half a gigabyte more: the guest may fill its own memory (positive
  // control), but a copy of a 1 GiB path argument in the host would not
  // fit (it ended the runner with std::bad_alloc).
  std::vector<std::string> args = {"--cache", d.path() + "/cache", "--limit", "memory=8704M"};
  auto alloc = jail(args, {wasm_guest("wasi_probe"), "alloc", "1024"}, 120);
  EXPECT_EQ(alloc.out, "ok allocated\n") << alloc.err;
  auto path = jail(args, {wasm_guest("wasi_probe"), "huge-path", "1024"}, 120);
  EXPECT_EQ(path.out, "err ENAMETOOLONG\n") << path.err;
}

}  // namespace
}  // namespace wwjail::testing
