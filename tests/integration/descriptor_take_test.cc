// Calls on a descriptor the broker performs itself (fstat when it mediates
// the stat family) take the guest's descriptor through a pidfd the session
// keeps per thread (broker/guest_pidfds.h). Whatever the cache holds, each
// process must get its own open file: here many processes, alive in turn and
// at once, more than the cache has slots, each hold a different file at the
// same descriptor number and compare fstat with stat of the path they opened.
#include <gtest/gtest.h>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

const char* kEachItsOwnFile = R"PY(
import os, sys, threading
files = sys.argv[1:]
def check(i, at=9):
    # Processes put their file at the same number; threads, which share one
    # table, each keep the number they got.
    path = files[i % len(files)]
    fd = os.open(path, os.O_RDONLY)
    if at is not None: fd = os.dup2(fd, at)
    a, b = os.fstat(fd).st_ino, os.stat(path).st_ino
    return a == b and a != 0
def child(i, hold_r):
    ok = check(i)
    if hold_r is not None:
        os.read(hold_r, 1)          # stay alive until the parent lets go
        ok = ok and check(i)        # and again, once others came and went
    os._exit(0 if ok else 1)
bad = 0
for i in range(40):                  # in turn: pids and cache slots come round
    pid = os.fork()
    if pid == 0: child(i, None)
    bad += os.waitpid(pid, 0)[1] != 0
hold_r, hold_w = os.pipe()
pids = []
for i in range(24):                  # at once: more live processes than slots
    pid = os.fork()
    if pid == 0: child(i, hold_r)
    pids.append(pid)
os.write(hold_w, b"x" * len(pids))
for pid in pids: bad += os.waitpid(pid, 0)[1] != 0
results = []
ts = [threading.Thread(target=lambda i=i: results.append(check(i, None))) for i in range(20)]
for t in ts: t.start()
for t in ts: t.join()
bad += results.count(False)
print("mismatches", bad, "of", 40 + 24 + 20, flush=True)
)PY";

TEST(DescriptorTake, EachProcessGetsItsOwnOpenFileThroughTheBroker) {
  ScratchDir d;
  std::vector<std::string> cmd{"/usr/bin/python3", "-S", "-c", kEachItsOwnFile};
  std::vector<std::string> args{"--read", "/usr"};
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    std::string f = d.file(name, name);
    cmd.push_back(f);
    args.push_back("--read");
    args.push_back(f);
  }
  auto r = jail(args, cmd, 120);  // --mediate files: fstat goes to the broker
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "mismatches 0 of 84\n") << describe(r);
}

// Control for the above: the broker really performs fstat there (a
// descriptor it cannot take is the guest's EBADF, answered by the broker
// without a guest syscall to fall back on).
TEST(DescriptorTake, AnUnknownDescriptorIsEBADF) {
  auto r = jail({"--read", "/usr"}, {"/usr/bin/python3", "-S", "-c",
                                     "import os\ntry:\n    os.fstat(77)\nexcept OSError as e:\n    print(e.errno)\n"});
  EXPECT_EQ(r.out, "9\n") << describe(r);
}

}  // namespace
}  // namespace wwjail::testing
