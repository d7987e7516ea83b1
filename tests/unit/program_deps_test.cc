// Program dependencies: the interpreter's kind comes from where it was found
// (an ELF's PT_INTERP, a script's "#!" line), never from its name.
#include "policy/program_deps.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>

#include "policy/path_resolver.h"
#include "policy/run_config.h"

namespace wwjail {
namespace {

class ProgramDepsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wwjail-deps.XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override { (void)!std::system(("rm -rf '" + dir_ + "'").c_str()); }

  // A minimal 64-bit ELF whose only program header is PT_INTERP naming `interp`.
  std::string elf(const std::string& name, const std::string& interp, uint16_t type = ET_EXEC) {
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = type;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    Elf64_Phdr ph{};
    ph.p_type = PT_INTERP;
    ph.p_offset = sizeof eh + sizeof ph;
    ph.p_filesz = interp.size() + 1;
    std::string bytes(reinterpret_cast<const char*>(&eh), sizeof eh);
    bytes.append(reinterpret_cast<const char*>(&ph), sizeof ph);
    bytes.append(interp.c_str(), interp.size() + 1);
    return file(name, bytes);
  }
  // A loader: what PT_INTERP may name (a shared object; no interpreter itself).
  std::string loader(const std::string& name) { return elf(name, "", ET_DYN); }
  std::string file(const std::string& name, const std::string& content) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    ::chmod(p.c_str(), 0755);
    return p;
  }
  // The scratch dir stands in for the trees only root can change.
  DepsTrust trust() const { return {{dir_}, {dir_}}; }
  std::string dir_;
};

// Guessed by substring, /lib/ld-musl-x86_64.so.1 was no "ld-linux" and
// became executable by name (ld-musl ./read-only-file ran it).
TEST_F(ProgramDepsTest, ALoaderIsALoaderWhateverItsName) {
  std::string musl = loader("ld-musl-x86_64.so.1");
  std::string prog = elf("prog", musl);
  ProgramDeps deps = find_program_deps(prog, trust());
  ASSERT_EQ(deps.interpreters.size(), 1u);
  EXPECT_EQ(deps.interpreters[0].path, musl);
  EXPECT_EQ(deps.interpreters[0].kind, Interpreter::Kind::kElfLoader);

  // The grant wwjail adds for it allows loading, not exec by name.
  RunConfig config;
  auto log = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
  StorageCaps caps = build_storage_caps(config, prog, "", *log, prog, trust());
  Decision d = caps.decide(musl, Need::kExec);
  ASSERT_TRUE(d.allowed && d.grant);
  EXPECT_TRUE(d.grant->interpreter_only) << musl << " may be exec'd by name";
  // Positive control: the program itself is directly executable.
  d = caps.decide(prog, Need::kExec);
  ASSERT_TRUE(d.allowed && d.grant);
  EXPECT_FALSE(d.grant->interpreter_only);
}

// A script's interpreter is exec'd for it by the kernel, so it is directly
// executable, even when its name looks like a loader's.
TEST_F(ProgramDepsTest, AScriptInterpreterIsExecutableWhateverItsName) {
  std::string ld = loader("ld-musl-x86_64.so.1");
  std::string shell = elf("ld.so-shell", ld);
  std::string script = file("script", "#!" + shell + " -e\necho hi\n");
  ProgramDeps deps = find_program_deps(script, trust());
  ASSERT_EQ(deps.interpreters.size(), 2u);
  EXPECT_EQ(deps.interpreters[0].path, shell);
  EXPECT_EQ(deps.interpreters[0].kind, Interpreter::Kind::kScript);
  EXPECT_EQ(deps.interpreters[1].path, ld);
  EXPECT_EQ(deps.interpreters[1].kind, Interpreter::Kind::kElfLoader);

  RunConfig config;
  auto log = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
  StorageCaps caps = build_storage_caps(config, script, "", *log, script, trust());
  Decision d = caps.decide(shell, Need::kExec);
  ASSERT_TRUE(d.allowed && d.grant);
  EXPECT_FALSE(d.grant->interpreter_only);
  d = caps.decide(ld, Need::kExec);
  ASSERT_TRUE(d.allowed && d.grant);
  EXPECT_TRUE(d.grant->interpreter_only);
}

// The program may be hostile and its headers name any path: only a file
// that is what the header says (a shared object for PT_INTERP and
// DT_NEEDED, an executable program for "#!") becomes a grant.
TEST_F(ProgramDepsTest, HeadersNamingSecretsGrantNothing) {
  std::string secret = file("secret", "TOPSECRET\n");
  ::chmod(secret.c_str(), 0600);
  EXPECT_TRUE(find_program_deps(elf("via-interp", secret), trust()).interpreters.empty());
  std::string script = file("s", "#!" + secret + "\n");
  EXPECT_TRUE(find_program_deps(script, trust()).interpreters.empty());
  // Positive control: a real loader is found.
  EXPECT_EQ(find_program_deps(elf("ok", loader("ld.so")), trust()).interpreters.size(), 1u);
}

// Outside the trees only root can change, a named file could be swapped
// between this check and the grant (a symlink repointed at /), and a path
// through /proc/PID/root names another mount namespace's file by a host
// path's text: neither becomes a grant.
TEST_F(ProgramDepsTest, OnlyTrustedTreesGiveStartUpGrants) {
  std::string ld = loader("ld-linux-x86-64.so.2");
  EXPECT_TRUE(find_program_deps(elf("untrusted", ld), DepsTrust::system()).interpreters.empty());
  std::string via_proc = "/proc/self/root" + ld;
  EXPECT_TRUE(find_program_deps(elf("via-proc", via_proc), DepsTrust{{"/usr/lib"}, {"/usr/bin"}}).interpreters.empty());
  // Positive controls: the same loader in a trusted tree, and a real program's loader.
  EXPECT_EQ(find_program_deps(elf("trusted", ld), trust()).interpreters.size(), 1u);
  EXPECT_FALSE(find_program_deps("/bin/ls").interpreters.empty());
}

// Several programs at once (an exec grant on a directory) need exactly what
// each needs alone: what they share is looked up once, nothing is lost.
TEST_F(ProgramDepsTest, ManyProgramsAtOnceNeedWhatEachNeeds) {
  std::vector<std::string> programs{"/bin/ls", "/bin/sh", "/usr/bin/sort", elf("secretive", file("s2", "x"))};
  std::set<std::string> each, interps;
  for (const auto& p : programs) {
    ProgramDeps one = find_program_deps(p);
    each.insert(one.libraries.begin(), one.libraries.end());
    for (const auto& i : one.interpreters) interps.insert(i.path);
  }
  ProgramDeps all = find_programs_deps(programs);
  EXPECT_EQ(std::set<std::string>(all.libraries.begin(), all.libraries.end()), each);
  std::set<std::string> all_interps;
  for (const auto& i : all.interpreters) all_interps.insert(i.path);
  EXPECT_EQ(all_interps, interps);
  EXPECT_FALSE(each.empty()) << "positive control: ls has libraries";
}

// A run reads ld.so.conf once: DepsTrust::system() keeps the search list,
// and a search with it finds what a search reading ld.so.conf itself finds.
// One resolver shared by several searches changes nothing either.
TEST_F(ProgramDepsTest, KeptSearchListAndSharedResolverFindTheSame) {
  DepsTrust kept = DepsTrust::system();
  ASSERT_TRUE(kept.lib_search);
  ASSERT_LE(kept.lib_search->size(), kept.libraries.size());
  EXPECT_TRUE(std::equal(kept.lib_search->begin(), kept.lib_search->end(), kept.libraries.begin()));
  DepsTrust reread = kept;
  reread.lib_search.reset();
  PathResolver paths;
  for (const char* program : {"/bin/ls", "/bin/sh"}) {
    ProgramDeps a = find_programs_deps({program}, kept, paths);
    ProgramDeps b = find_programs_deps({program}, reread);
    EXPECT_EQ(a.libraries, b.libraries) << program;
    ASSERT_EQ(a.interpreters.size(), b.interpreters.size()) << program;
    for (size_t i = 0; i < a.interpreters.size(); ++i) EXPECT_EQ(a.interpreters[i].path, b.interpreters[i].path);
    EXPECT_FALSE(a.libraries.empty()) << "positive control: " << program << " has libraries";
  }
}

}  // namespace
}  // namespace wwjail
