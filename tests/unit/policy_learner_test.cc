// wwjail learn's folding, on recorded accesses; the output is read back by
// the policy parser, so a learned policy is always one `check` accepts.
#include "policy/policy_learner.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <set>

#include "policy/policy_file.h"
#include "policy/run_config.h"

namespace wwjail {
namespace {

class Learner : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wwjail-learn.XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    char real[PATH_MAX];
    ASSERT_TRUE(realpath(tmpl, real));
    dir_ = real;
  }
  void TearDown() override { (void)!std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string file(const std::string& name) {
    std::string p = dir_ + "/" + name;
    ::mkdir(p.substr(0, p.rfind('/')).c_str(), 0755);
    std::ofstream(p) << "x";
    return p;
  }
  std::string dir(const std::string& name) {
    std::string p = dir_ + "/" + name;
    ::mkdir(p.c_str(), 0755);
    return p;
  }
  // Writes the learned text and loads it as a policy.
  RunConfig reload(const LearnedPolicy& learned) {
    std::string p = dir_ + "/learned.toml";
    std::ofstream(p) << learned.text;
    RunConfig c;
    load_policy_file(p, c);
    return c;
  }
  static const GrantRequest* find(const RunConfig& c, const std::string& path) {
    for (const auto& g : c.grants) {
      if (g.path == path) return &g;
    }
    return nullptr;
  }
  std::string dir_;
};

TEST_F(Learner, FoldsFilesIntoTheirDirectoryFromThreeOn) {
  PolicyLearner l({"prog"});
  std::string few = dir("few"), many = dir("many");
  l.storage(file("few/a"), Need::kRead);
  l.storage(file("few/b"), Need::kStat);
  for (const char* n : {"many/1", "many/2", "many/3"}) l.storage(file(n), Need::kRead);
  RunConfig c = reload(l.render());
  EXPECT_TRUE(find(c, few + "/a"));
  EXPECT_TRUE(find(c, few + "/b"));
  EXPECT_FALSE(find(c, few));
  ASSERT_TRUE(find(c, many));
  EXPECT_EQ(find(c, many)->rights, kRead);
  EXPECT_FALSE(find(c, many + "/1"));
}

TEST_F(Learner, NeverFoldsIntoASystemTree) {
  PolicyLearner l({"prog"});
  for (const char* f : {"/etc/hostname", "/etc/os-release", "/etc/debian_version", "/etc/ld.so.conf"})
    l.storage(f, Need::kRead);
  RunConfig c = reload(l.render());
  EXPECT_FALSE(find(c, "/etc"));
  EXPECT_TRUE(find(c, "/etc/hostname"));
}

TEST_F(Learner, WritesAreCommentedAndGoToTheDirectory) {
  PolicyLearner l({"prog"});
  std::string out = dir("out");
  l.storage(out + "/new.db", Need::kCreate);       // created (gone again after the run)
  l.storage(file("conf/existing"), Need::kWrite);  // an existing file changed
  LearnedPolicy learned = l.render();
  EXPECT_TRUE(learned.writes_outside_tmpdir);
  EXPECT_NE(learned.text.find("# WRITE OUTSIDE THE PRIVATE TEMP DIR"), std::string::npos) << learned.text;
  RunConfig c = reload(learned);
  ASSERT_TRUE(find(c, out));
  EXPECT_TRUE(find(c, out)->rights & kWrite);
  ASSERT_TRUE(find(c, dir_ + "/conf/existing"));
  EXPECT_TRUE(find(c, dir_ + "/conf/existing")->rights & kWrite);
}

TEST_F(Learner, TmpdirIsLeftOutAndAbsentPathsBecomeOptional) {
  PolicyLearner l({"prog"});
  std::string tmp = dir("tmp");
  l.set_tmpdir(tmp);
  l.storage(tmp + "/scratch", Need::kCreate);
  l.storage(tmp + "/scratch", Need::kWrite);
  l.storage(dir_ + "/missing.cfg", Need::kStat);
  LearnedPolicy learned = l.render();
  EXPECT_FALSE(learned.writes_outside_tmpdir) << learned.text;
  EXPECT_EQ(learned.text.find(tmp), std::string::npos) << learned.text;
  RunConfig c = reload(learned);
  EXPECT_EQ(c.absent_paths, std::vector<std::string>{dir_ + "/missing.cfg"});
}

TEST_F(Learner, SystemFilesGoToBaseProfiles) {
  PolicyLearner l({"prog"});
  l.storage("/usr/lib/locale/C.utf8/LC_CTYPE", Need::kRead);
  l.storage("/etc/ld.so.preload", Need::kStat);
  LearnedPolicy learned = l.render();
  EXPECT_NE(learned.text.find("include = [\"base:dynamic-elf\"]"), std::string::npos) << learned.text;
  EXPECT_EQ(learned.text.find("/usr/lib/locale"), std::string::npos) << learned.text;
  if (::access("/usr/lib/python3", F_OK) == 0) {
    PolicyLearner py({"python3"});
    py.storage("/usr/lib/python3/dist-packages", Need::kStat);
    char real[PATH_MAX];
    ASSERT_TRUE(realpath("/usr/bin/python3", real));  // decisions are on canonical paths
    py.storage(real, Need::kStat);
    EXPECT_NE(py.render().text.find("include = [\"base:python3\"]"), std::string::npos);
  }
}

TEST_F(Learner, NetworkAndProcPaths) {
  PolicyLearner l({"prog"});
  l.network(true, "tcp:127.0.0.1:8080");
  l.network(false, "tcp:10.0.0.7:5432");
  l.network(false, "tcp:10.0.0.7:5432");
  l.storage("/proc/1234/status", Need::kRead);
  LearnedPolicy learned = l.render();
  EXPECT_NE(learned.text.find("#   /proc/1234/status"), std::string::npos) << learned.text;
  RunConfig c = reload(learned);
  ASSERT_EQ(c.net.size(), 2u);
  EXPECT_EQ(c.net[0].flag, "--bind");
  EXPECT_EQ(c.net[0].spec, "tcp:127.0.0.1:8080");
  EXPECT_EQ(c.net[1].spec, "tcp:10.0.0.7:5432");
  EXPECT_FALSE(find(c, "/proc/1234/status"));
}

// A directory the program listed and read in is what it worked on: the
// policy must still hold when the directory gains a file. Only listed or
// read from three files on; never / or a top-level system tree.
TEST_F(Learner, AListedDirectoryWithFilesReadFoldsIntoTheDirectory) {
  PolicyLearner l({"tar"});
  std::string tree = dir("tree"), sub = dir("tree/sub"), only_read = dir("plain");
  l.storage(tree, Need::kRead);  // listed
  l.storage(file("tree/a"), Need::kRead);
  l.storage(sub, Need::kRead);
  l.storage(file("tree/sub/b"), Need::kRead);
  l.storage(file("plain/one"), Need::kRead);  // read without listing: the file alone
  RunConfig c = reload(l.render());
  ASSERT_TRUE(find(c, tree));
  EXPECT_EQ(find(c, tree)->rights, kRead);
  EXPECT_FALSE(find(c, tree)->list_only);
  EXPECT_FALSE(find(c, sub)) << "inside the tree's grant";
  EXPECT_FALSE(find(c, tree + "/a"));
  EXPECT_TRUE(find(c, only_read + "/one"));
  EXPECT_FALSE(find(c, only_read));
}

// A listed directory holding a subdirectory the program never looked into
// (python lists its script's directory for imports) is not folded: the
// grant would reach that subtree.
TEST_F(Learner, AListedDirectoryIsNotFoldedOverAnUnseenSubdirectory) {
  PolicyLearner l({"python3"});
  std::string work = dir("work");
  dir("work/private");
  l.storage(work, Need::kRead);
  l.storage(file("work/conf.json"), Need::kRead);
  RunConfig c = reload(l.render());
  EXPECT_TRUE(find(c, work + "/conf.json"));
  ASSERT_TRUE(find(c, work));
  EXPECT_TRUE(find(c, work)->list_only);
}

TEST_F(Learner, AListedDirectoryWithCreatedFilesGetsWrite) {
  PolicyLearner l({"server"});
  std::string out = dir("out");
  l.storage(out, Need::kRead);
  l.storage(out + "/upload.bin", Need::kCreate);
  RunConfig c = reload(l.render());
  ASSERT_TRUE(find(c, out));
  EXPECT_TRUE(find(c, out)->rights & kWrite);
}

TEST_F(Learner, ListingAndReadingATopLevelTreeStillListsFiles) {
  PolicyLearner l({"prog"});
  l.storage("/etc", Need::kRead);
  l.storage("/etc/hostname", Need::kRead);
  RunConfig c = reload(l.render());
  EXPECT_FALSE(find(c, "/etc") && !find(c, "/etc")->list_only) << "never the whole of /etc";
  EXPECT_TRUE(find(c, "/etc/hostname"));
}

// execve of $PATH entries that do not exist (a shell's search) grants
// nothing: they are written "?PATH" (told absent, as during learning) and
// not counted as grants.
TEST_F(Learner, PathProbesAreNoGrants) {
  PolicyLearner l({"sh"});
  std::string bin = dir("bin");
  std::string real = file("bin/tool");
  ::chmod(real.c_str(), 0755);
  l.storage(dir_ + "/cargo/bin/tool", Need::kExec);
  l.storage(real, Need::kExec);
  LearnedPolicy learned = l.render();
  EXPECT_EQ(learned.grants, 1u) << learned.text;
  RunConfig c = reload(learned);
  ASSERT_TRUE(find(c, real));
  EXPECT_TRUE(find(c, real)->rights & kExec);
  EXPECT_FALSE(find(c, dir_ + "/cargo/bin/tool"));
  EXPECT_EQ(c.absent_paths, std::vector<std::string>{dir_ + "/cargo/bin/tool"});
}

// glibc connects to nscd's socket before every user lookup; where no nscd
// runs its directory is absent. The learned policy must still load.
TEST_F(Learner, AConnectToAnAbsentSocketIsOptional) {
  PolicyLearner l({"sqlite3"});
  std::string live = dir("run") + "/live.sock";
  std::ofstream(live) << "";  // exists (a socket or not, the learner looks only for the name)
  l.network(false, "unix:" + dir_ + "/no/such/dir/socket");
  l.network(false, "unix:" + live);
  LearnedPolicy learned = l.render();
  EXPECT_NE(learned.text.find("\"?unix:" + dir_ + "/no/such/dir/socket\""), std::string::npos) << learned.text;
  RunConfig c = reload(learned);
  ASSERT_EQ(c.net.size(), 2u);
  EXPECT_EQ(c.net[0].spec, "?unix:" + dir_ + "/no/such/dir/socket");
  EXPECT_EQ(c.net[1].spec, "unix:" + live);
}

// OpenSSL reads openssl.cnf in every program linked to it: that alone is no
// reason for tls-client's DNS grant. Resolver traffic is.
TEST_F(Learner, AConfigReadDoesNotPullInTheTlsClientProfile) {
  const char* cnf = "/usr/lib/ssl/openssl.cnf";
  if (::access(cnf, R_OK) != 0) GTEST_SKIP() << cnf << " is not installed";
  char real[PATH_MAX];
  ASSERT_TRUE(realpath(cnf, real));
  PolicyLearner quiet({"curl"});
  quiet.storage(real, Need::kRead);
  quiet.network(false, "tcp:127.0.0.1:8080");
  LearnedPolicy learned = quiet.render();
  EXPECT_EQ(learned.text.find("base:tls-client"), std::string::npos) << learned.text;
  EXPECT_EQ(learned.text.find("dns = true"), std::string::npos) << learned.text;
  RunConfig c = reload(learned);
  EXPECT_TRUE(find(c, real)) << learned.text;
  auto servers = resolv_conf_nameservers();
  if (servers.empty()) return;
  PolicyLearner tls({"curl"});
  tls.storage(real, Need::kRead);
  tls.network(false, "udp:" + servers[0] + ":53");
  EXPECT_NE(tls.render().text.find("base:tls-client"), std::string::npos);
}

// Paths that exist only for this user on this host: optional.
TEST_F(Learner, ThePasswdHomeIsOptionalWhenHomePointsElsewhere) {
  std::string home = dir("home");
  std::string rc = file("home/.toolrc");
  PolicyLearner l({"tool"});
  l.set_home(home, dir_ + "/elsewhere");
  l.storage(rc, Need::kRead);
  LearnedPolicy learned = l.render();
  EXPECT_NE(learned.text.find("\"?" + rc + "\""), std::string::npos) << learned.text;
  PolicyLearner same({"tool"});
  same.set_home(home, home);
  same.storage(rc, Need::kRead);
  EXPECT_NE(same.render().text.find("  \"" + rc + "\""), std::string::npos);
  // A passwd home of / (or none) makes nothing optional.
  PolicyLearner root({"tool"});
  root.set_home("/", home);
  root.storage(rc, Need::kRead);
  EXPECT_NE(root.render().text.find("  \"" + rc + "\""), std::string::npos);
}

TEST_F(Learner, OtherProcessesProcEntriesAreLeftOutWithAComment) {
  PolicyLearner l({"prog"});
  l.storage("/proc/4242/status", Need::kRead);
  LearnedPolicy learned = l.render();
  EXPECT_NE(learned.text.find("#   /proc/4242/status"), std::string::npos) << learned.text;
  EXPECT_EQ(learned.text.find("grant /proc"), std::string::npos) << learned.text;
}

// Escaping: a learned "?unix:" SPEC holding quotes, newlines and a fake
// section stays one string.
TEST_F(Learner, OptionalSocketSpecsAreEscaped) {
  PolicyLearner l({"prog"});
  l.network(false, "unix:" + dir_ + "/gone\"]\n[network]\nconnect_broad = [\"tcp:*:*\"]\n#/s");
  RunConfig c = reload(l.render());
  ASSERT_EQ(c.net.size(), 1u);
  EXPECT_EQ(c.net[0].spec, "?unix:" + dir_ + "/gone\"]\n[network]\nconnect_broad = [\"tcp:*:*\"]\n#/s");
}

// Everything a learned policy says comes from the run: the command line
// and the paths the guest chose. None of it may end a comment or a string.
TEST(TomlText, StringsAreEscapedForTomlBasicStrings) {
  EXPECT_EQ(toml_string("/srv/plain"), "\"/srv/plain\"");
  EXPECT_EQ(toml_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(toml_string("n\nr\rt\tb\bf\f"), "\"n\\nr\\rt\\tb\\bf\\f\"");
  EXPECT_EQ(toml_string("\x01\x1b\x1f\x7f"), "\"\\u0001\\u001b\\u001f\\u007f\"");
  EXPECT_EQ(toml_string("caf\xc3\xa9 \xf0\x9f\x90\x8d"), "\"caf\xc3\xa9 \xf0\x9f\x90\x8d\"");  // valid UTF-8 stays
  // TOML holds Unicode text only: bytes that are not UTF-8 cannot be written.
  EXPECT_EQ(toml_string("/tmp/\xff"), std::nullopt);
  EXPECT_EQ(toml_string("\xc3"), std::nullopt);              // truncated sequence
  EXPECT_EQ(toml_string("\xc0\xaf"), std::nullopt);          // overlong "/"
  EXPECT_EQ(toml_string("\xed\xa0\x80"), std::nullopt);      // a UTF-16 surrogate
  EXPECT_EQ(toml_string("\xf4\x90\x80\x80"), std::nullopt);  // above U+10FFFF
}

TEST(TomlText, VisibleEscapesKeepEverythingOnOneLine) {
  EXPECT_EQ(escape_visibly("plain /srv/x caf\xc3\xa9"), "plain /srv/x caf\xc3\xa9");
  EXPECT_EQ(escape_visibly("a\nb\rc\td\\e"), "a\\nb\\rc\\td\\\\e");
  EXPECT_EQ(escape_visibly("\x1b[31m\x7f\x01"), "\\x1b[31m\\x7f\\x01");
  EXPECT_EQ(escape_visibly("\xff\xfe/\xc3"), "\\xff\\xfe/\\xc3");
  // C1 controls and the line and bidi separators some tools and terminals obey.
  EXPECT_EQ(escape_visibly("\xc2\x85|\xe2\x80\xa8|\xe2\x80\xae"), "\\xc2\\x85|\\xe2\\x80\\xa8|\\xe2\\x80\\xae");
}

TEST_F(Learner, ArgumentsCannotInjectIntoTheHeaderComment) {
  PolicyLearner l({"/bin/sh", "-c", "true", "x\n[network]\nconnect_broad = [\"tcp:*:*\"]"});
  l.storage(file("data/in.txt"), Need::kRead);
  LearnedPolicy learned = l.render();
  EXPECT_NE(learned.text.find("x\\n[network]\\nconnect_broad"), std::string::npos) << learned.text;
  RunConfig c = reload(learned);
  EXPECT_TRUE(c.net.empty());                   // no grant came from the arguments
  EXPECT_TRUE(find(c, dir_ + "/data/in.txt"));  // positive control: what the run read is granted
}

TEST_F(Learner, ArgumentsWithControlAndInvalidBytesStayInTheComment) {
  PolicyLearner l({"prog", "\r\x1b[2K\x7f", "\xff\xfe", "ok \xc3\xa9"});
  l.storage(file("data/in.txt"), Need::kRead);
  LearnedPolicy learned = l.render();
  for (char c : learned.text) EXPECT_TRUE(c == '\n' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
  EXPECT_NE(learned.text.find("prog \\r\\x1b[2K\\x7f \\xff\\xfe ok \xc3\xa9\n"), std::string::npos) << learned.text;
  RunConfig c = reload(learned);  // valid TOML (UTF-8 throughout)
  EXPECT_TRUE(find(c, dir_ + "/data/in.txt"));
}

TEST_F(Learner, PathsWithQuotesAndNewlinesRoundTripExactly) {
  PolicyLearner l({"prog"});
  std::string odd = dir("d\"q\n[network]\nconnect_broad = [\"tcp:*:*\"]\n#\\");
  std::string tab = file("t\tab \xc3\xa9\"");
  l.storage(odd + "/new", Need::kCreate);
  l.storage(tab, Need::kWrite);
  l.network(false, "unix:" + dir_ + "/s\"ock\n");
  RunConfig c = reload(l.render());
  ASSERT_TRUE(find(c, odd));
  EXPECT_TRUE(find(c, odd)->rights & kWrite);
  ASSERT_TRUE(find(c, tab));
  EXPECT_TRUE(find(c, tab)->rights & kWrite);
  ASSERT_EQ(c.net.size(), 1u);
  EXPECT_EQ(c.net[0].spec, "?unix:" + dir_ + "/s\"ock\n");  // absent: optional
}

TEST_F(Learner, GlobCharactersInPathsNameOnlyThatPath) {
  PolicyLearner l({"prog"});
  std::string star = file("g/a*"), bracket = file("g/b[1]"), slash = file("g/c\\*");
  file("g/aa");
  file("g/b1");
  file("g/c\\x");
  for (const auto& p : {star, bracket, slash}) l.storage(p, Need::kWrite);
  // A path the guest looked for that did not exist: with glob characters
  // it would match every file in the directory.
  file("h/secret");
  l.storage(dir_ + "/h/*", Need::kStat);
  LearnedPolicy learned = l.render();
  RunConfig c = reload(learned);
  std::set<std::string> granted;
  for (const auto& g : c.grants) granted.insert(g.path);
  EXPECT_EQ(granted, (std::set<std::string>{star, bracket, slash})) << learned.text;
  EXPECT_TRUE(c.absent_paths.empty()) << learned.text;
}

TEST_F(Learner, GuestNameSeparatorCannotWidenAGrant) {
  PolicyLearner l({"prog"});
  dir("w");
  std::string sep = dir("w/x::");
  l.storage(dir_ + "/w::/x", Need::kStat);  // absent: "?DIR/w::/x" would read as HOST::GUEST, a grant on DIR/w
  l.storage(sep + "/f", Need::kCreate);     // "DIR/w/x::" has no guest name after the separator
  LearnedPolicy learned = l.render();
  RunConfig c = reload(learned);
  EXPECT_FALSE(find(c, dir_ + "/w")) << learned.text;
  EXPECT_FALSE(find(c, sep)) << learned.text;
  EXPECT_NE(learned.text.find("# Not written"), std::string::npos) << learned.text;
}

TEST_F(Learner, PathsThatAreNotUtf8AreLeftOutWithAComment) {
  PolicyLearner l({"prog"});
  std::string bad = file("bad\xff\n[network]");
  std::string good = file("good");
  l.storage(bad, Need::kWrite);
  l.storage(good, Need::kWrite);
  l.network(true, "unix:" + dir_ + "/\xfe.sock");
  l.storage("/proc/1/x\n[network]\nconnect_broad = [\"tcp:*:*\"]", Need::kRead);
  LearnedPolicy learned = l.render();
  EXPECT_NE(learned.text.find("bad\\xff\\n[network]"), std::string::npos) << learned.text;
  EXPECT_NE(learned.text.find("/\\xfe.sock"), std::string::npos) << learned.text;
  EXPECT_NE(learned.text.find("#   /proc/1/x\\n[network]"), std::string::npos) << learned.text;
  RunConfig c = reload(learned);
  EXPECT_TRUE(c.net.empty());
  ASSERT_EQ(c.grants.size(), 1u) << learned.text;
  EXPECT_EQ(c.grants[0].path, good);  // positive control
}

TEST_F(Learner, WritesAtomically) {
  std::string p = dir_ + "/out.toml";
  write_learned_policy(p, "x = 1\n");
  std::ifstream in(p);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "x = 1\n");
  EXPECT_NE(::access((p + ".wwjail-tmp").c_str(), F_OK), 0);
  EXPECT_THROW(write_learned_policy("/no/such/dir/p.toml", "x"), std::exception);
}

}  // namespace
}  // namespace wwjail
