// The ELF loader of a granted program is granted exec so the kernel can load
// it, never to be run by name (ld.so FILE would run a file granted only for
// reading). Which file is the loader is read from the program's PT_INTERP;
// it used to be guessed from the name ("ld-linux", "ld.so"), so a loader
// named otherwise, such as musl's /lib/ld-musl-x86_64.so.1, ran by name.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
}

TEST(LoaderKind, ALoaderNamedLikeNoGlibcLoaderStillCannotRunByName) {
  const std::string glibc_loader = "/lib64/ld-linux-x86-64.so.2";
  std::string probe = read_file(guest("probe"));
  std::string interp = glibc_loader + std::string(1, '\0');
  size_t at = probe.find(interp);
  if (::access(glibc_loader.c_str(), X_OK) != 0 || at == std::string::npos)
    GTEST_SKIP() << "the probe is not loaded by " << glibc_loader;
  // A copy of the loader under a name with no "ld-linux" or "ld.so" in it,
  // short enough to take the place of the probe's PT_INTERP string. It must
  // sit where only root can change it: wwjail grants a program's loader only
  // from such trees (a name in a writable place could be swapped).
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, to place a loader in /lib";
  char tmpl[] = "/lib/q.XXXXXX";
  ASSERT_TRUE(::mkdtemp(tmpl));
  ::chmod(tmpl, 0755);
  const std::string dir = tmpl;
  const std::string loader = dir + "/musl1";
  ASSERT_LE(loader.size(), glibc_loader.size());
  spit(loader, read_file(glibc_loader));
  probe.replace(at, interp.size(), loader + std::string(interp.size() - loader.size(), '\0'));
  const std::string prog = dir + "/probe";
  spit(prog, probe);
  // Positive control: the program runs, so its loader is granted and used;
  // natively the loader runs by name.
  auto loaded = jail({}, {prog, "exit", "7"});
  EXPECT_EQ(loaded.exit_code, 7) << loaded.err;
  EXPECT_EQ(run({loader, "/usr/bin/true"}).exit_code, 0);
  // The attempt: run a readable program through the loader.
  auto direct = jail({"--read", "/usr/bin"}, {prog, "exec", loader, "/usr/bin/true"});
  EXPECT_EQ(direct.out, "err EACCES\n") << direct.err;
  EXPECT_NE(direct.err.find("direct exec of the ELF interpreter is not granted"), std::string::npos) << direct.err;
  (void)!std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace wwjail::testing
