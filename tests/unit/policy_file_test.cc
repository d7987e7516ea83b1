// Policy files: every error path names FILE:LINE:COLUMN and what to write.
#include "policy/policy_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/resource.h>

#include <climits>
#include <fstream>

#include "policy/run_config.h"
#include "capabilities/storage_caps.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

class PolicyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wwjail-policy.XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    dir_ = tmpl;
    ::mkdir((dir_ + "/data").c_str(), 0755);
  }
  void TearDown() override { (void)!std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string write(const std::string& text) {
    std::string p = dir_ + "/policy.toml";
    std::ofstream(p) << text;
    return p;
  }
  // The error message, or "" when the file loads.
  std::string error_of(const std::string& text) {
    RunConfig c;
    try {
      load_policy_file(write(text), c);
    } catch (const SetupError& e) {
      return e.what();
    }
    return "";
  }
  std::string dir_;
};

TEST_F(PolicyFile, LoadsEveryKey) {
  RunConfig c;
  load_policy_file(write("[storage]\nread = [\"/usr\"]\nwrite = [\"data\"]\nexec = [\"/bin/sh\"]\n"
                         "tmpdir = false\nkeep_tmpdir = true\n"
                         "[network]\nbind = [\"tcp:127.0.0.1:8080\"]\nconnect = [\"udp:[::1]:53\"]\n"
                         "listen = [\"tcp:127.0.0.1:8081\"]\ndns = true\n"),
                   c);
  ASSERT_EQ(c.grants.size(), 3u);
  EXPECT_EQ(c.grants[0].path, "/usr");
  EXPECT_EQ(c.grants[0].origin, dir_ + "/policy.toml:2 read /usr");
  char real[PATH_MAX];
  ASSERT_TRUE(realpath((dir_ + "/data").c_str(), real));
  EXPECT_EQ(c.grants[1].path, real);  // relative to the policy's directory
  EXPECT_TRUE(c.grants[1].rights & kWrite);
  EXPECT_TRUE(c.grants[2].rights & kExec);
  EXPECT_FALSE(c.tmpdir);
  EXPECT_TRUE(c.keep_tmpdir);
  ASSERT_EQ(c.net.size(), 4u);
  EXPECT_EQ(c.net[3].spec, "dns");
}

TEST_F(PolicyFile, ErrorsNameTheSpotAndTheFix) {
  struct Case {
    const char* text;
    const char* where;
    const char* says;
  } cases[] = {
      {"[storage]\nreed = [\"/usr\"]\n", ":2:1:", "unknown key 'reed' in [storage]; the keys are"},
      {"[store]\n", ":1:2:", "unknown key 'store'"},
      {"[storage]\nread = \"/usr\"\n", ":2:8:", "must be an array of strings"},
      {"[storage]\nread = [1]\n", ":2:9:", "holds a non-string"},
      {"[storage]\ntmpdir = \"yes\"\n", ":2:10:", "must be true or false"},
      {"[storage]\nread = [\"/no/such/path\"]\n", ":2:9:", "does not exist"},
      {"[storage]\nwrite = [\"/\"]\n", ":2:10:", "too broad to be deliberate"},
      {"[storage]\nwrite = [\"/etc\"]\n", ":2:10:", "list \"/etc\" under write_broad"},
      {"[network]\nconnect = [\"tcp:*:*\"]\n", ":2:12:", "under connect_broad"},
      {"[network]\nconnect = [\"tcp:[::]/0:*\"]\n", ":2:12:", "too broad"},
      {"[network]\nbind = [\"tcp:127.0.0.1\"]\n", ":2:9:", "missing port"},
      {"[network]\nbind = [\"tcp:127.0.0.1:99999\"]\n", ":2:9:", "bad port"},
      {"[network]\ndns = 1\n", ":2:7:", "must be true or false"},
      {"[network\n", ":1:", "must be valid TOML"},
  };
  for (const auto& c : cases) {
    std::string err = error_of(c.text);
    EXPECT_NE(err.find("policy.toml" + std::string(c.where)), std::string::npos) << c.text << " -> " << err;
    EXPECT_NE(err.find(c.says), std::string::npos) << c.text << " -> " << err;
  }
}

TEST_F(PolicyFile, BroadGrantsCanBeMadeDeliberate) {
  EXPECT_EQ(error_of("[storage]\nwrite_broad = [\"/tmp\"]\n"), "");
  EXPECT_EQ(error_of("[network]\nconnect_broad = [\"tcp:*:*\"]\n"), "");
  // A specific peer on any port, or any peer on one port, is not "broad".
  EXPECT_EQ(error_of("[network]\nconnect = [\"tcp:127.0.0.1:*\", \"tcp:*:443\"]\n"), "");
}

TEST_F(PolicyFile, DescribesTheCapabilitiesInPlainWords) {
  RunConfig c;
  load_policy_file(write("[storage]\nread = [\"/usr\"]\n[network]\nconnect = [\"tcp:127.0.0.1:5432\"]\n"), c);
  std::string text = describe_capabilities(c);
  EXPECT_NE(text.find("read:      /usr and everything below it"), std::string::npos) << text;
  EXPECT_NE(text.find("write:     nothing"), std::string::npos) << text;
  EXPECT_NE(text.find("connect:   tcp:127.0.0.1:5432"), std::string::npos) << text;
  EXPECT_NE(text.find("temp dir:  private $TMPDIR, removed after the run"), std::string::npos) << text;
}

TEST_F(PolicyFile, IncludesMergeFilesAndBaseProfiles) {
  ::mkdir((dir_ + "/common").c_str(), 0755);
  std::ofstream(dir_ + "/common/net.toml") << "[network]\nconnect = [\"tcp:127.0.0.1:5432\"]\n"
                                              "[storage]\nread = [\"../data\"]\n";
  RunConfig c;
  load_policy_file(write("include = [\"common/net.toml\", \"base:dynamic-elf\"]\n[storage]\nwrite = [\"data\"]\n"), c);
  // The included file's relative paths are relative to *its* directory.
  char real[PATH_MAX];
  ASSERT_TRUE(realpath((dir_ + "/data").c_str(), real));
  bool read_data = false, write_data = false, usr_lib = false;
  for (const auto& g : c.grants) {
    if (g.path == real && g.rights == kRead) read_data = g.origin.find("net.toml:4 read ../data") != std::string::npos;
    if (g.path == real && (g.rights & kWrite)) write_data = true;
    if (g.path == "/usr/lib") usr_lib = g.origin.starts_with("base:dynamic-elf:");
  }
  EXPECT_TRUE(read_data);
  EXPECT_TRUE(write_data);
  EXPECT_TRUE(usr_lib);
  ASSERT_EQ(c.net.size(), 1u);
  EXPECT_EQ(c.net[0].spec, "tcp:127.0.0.1:5432");
  ASSERT_EQ(c.policy_files.size(), 3u);  // includes first, the file itself last
  EXPECT_EQ(c.policy_files[1], "base:dynamic-elf");
}

TEST_F(PolicyFile, EveryBaseProfileLoadsHere) {
  for (const char* name : {"dynamic-elf", "python3", "tls-client"}) {
    RunConfig c;
    EXPECT_NO_THROW(c = load_base_profile(name)) << name;
    EXPECT_FALSE(c.grants.empty()) << name;
    for (const auto& g : c.grants) EXPECT_FALSE(g.rights & kWrite) << name << " grants write on " << g.path;
  }
  RunConfig tls = load_base_profile("tls-client");
  bool dns = false;
  for (const auto& n : tls.net) dns = dns || n.spec == "dns";
  EXPECT_TRUE(dns);
}

TEST_F(PolicyFile, IncludeErrorsNameTheSpot) {
  std::ofstream(dir_ + "/a.toml") << "include = [\"b.toml\"]\n";
  std::ofstream(dir_ + "/b.toml") << "include = [\"a.toml\"]\n";
  std::ofstream(dir_ + "/broken.toml") << "[storage]\nread = 3\n";
  std::string err = error_of("include = [\"a.toml\"]\n");
  EXPECT_NE(err.find("b.toml:1:12: 'a.toml' includes itself"), std::string::npos) << err;
  err = error_of("include = [\"policy.toml\"]\n");
  EXPECT_NE(err.find("includes itself"), std::string::npos) << err;
  err = error_of("include = [\"missing.toml\"]\n");
  EXPECT_NE(err.find("policy.toml:1:12: included file 'missing.toml' cannot be opened"), std::string::npos) << err;
  err = error_of("include = [\"base:nope\"]\n");
  EXPECT_NE(err.find("no base profile 'base:nope'; the shipped ones are: base:dynamic-elf"), std::string::npos)
      << err;
  // An error inside an included file names that file.
  err = error_of("include = [\"broken.toml\"]\n");
  EXPECT_NE(err.find("broken.toml:2:8: 'storage.read' must be an array"), std::string::npos) << err;
  err = error_of("include = \"base:python3\"\n");
  EXPECT_NE(err.find("policy.toml:1:11: 'include' must be an array of strings"), std::string::npos) << err;
}

// Only a regular file of bounded size is a policy: a directory used to read
// as an empty, valid policy. (A FIFO and /dev/zero, which hang or never end
// on a reader that does not check, are in the CLI tests, under a timeout.)
TEST_F(PolicyFile, APolicyIsARegularFileOfBoundedSize) {
  RunConfig c;
  try {
    load_policy_file(dir_ + "/data", c);
    ADD_FAILURE() << "a directory was read as a policy";
  } catch (const SetupError& e) {
    EXPECT_EQ(std::string(e.what()), dir_ + "/data: cannot read the policy: it is a directory; a policy is a regular "
                                            "file of at most 1 MiB");
  }
  std::string err = error_of("include = [\"data\"]\n");
  EXPECT_NE(err.find("policy.toml:1:12: included file 'data' cannot be read: it is a directory"), std::string::npos)
      << err;
  // Positive control and the bound: a comment-padded file of exactly the
  // limit loads; one byte more is refused.
  std::string at_limit = "[storage]\nread = [\"/usr\"]\n#";
  at_limit.resize(kMaxPolicyBytes, 'x');
  EXPECT_EQ(error_of(at_limit), "");
  err = error_of(at_limit + "x");
  EXPECT_NE(err.find("cannot read the policy: it is larger than 1 MiB"), std::string::npos) << err;
}

// Debian's toml++ 3.3.0 reaches __builtin_unreachable on "[a\xcd\x84]"
// (marzer/tomlplusplus#190, undefined behaviour): no such text reaches it.
TEST_F(PolicyFile, TextTheTomlParserMishandlesIsRefusedFirst) {
  EXPECT_EQ(error_of("[a\xcd\x84]\n"), dir_ + "/policy.toml:1:3: a non-ASCII character outside a quoted string or a "
                                            "comment; TOML 1.0 bare keys are A-Z, a-z, 0-9, '-' and '_': quote the "
                                            "key (\"...\")");
  const std::string refused[] = {
      "[storage]\nread\xc2\xa0= []\n",                      // a no-break space after a key
      "[storage]\nread = [\"/usr\"]\xd0\x80\n",             // after a value
      "\xc3\xa9 = 1\n",                                     // a bare key
      "[env]\nset = { A = \"\"\"\\\xcd\x84\"\"\" }\n",      // after a backslash in a multi-line string
      "[env]\nset = { A = \"\"\"x\\  \n  \xcd\x84\"\"\" }\n",  // after a line-ending backslash
      "a = '''x''''\n\xcd\x84 = 1\n",                       // after a literal string ending in a quote
      // A quote inside a number or after a sign is no string to the parser,
      // which scans on to a delimiter (found by the fuzzer).
      "a = [1\"\xcd\x84\"]\n",
      "a = 1.\"\xcd\x84\"\n",
      "a = -\"\xcd\x84\"\n",
      "a = 0[\"\xcd\x84\"]\n",     // ... through = [ { too
      "a = 1={\"\xcd\x84\"}\n",
      "a = 1979-05-27 \"\xcd\x84\"\n",
      // An escape as the last byte (the scan read past the end; the fuzzer).
      "a = \"\\",
  };
  for (const auto& text : refused) {
    std::string err = error_of(text);
    if (text.back() == '\\') EXPECT_NE(err.find("must be valid TOML"), std::string::npos) << err;
    else EXPECT_NE(err.find("a non-ASCII character"), std::string::npos) << text << ": " << err;
  }
  std::string err = error_of("a = \"\"\"\n\\\n  \xcd\x84\"\"\"");
  EXPECT_NE(err.find("policy.toml:3:3: a non-ASCII character after a backslash"), std::string::npos) << err;
  // Positive controls: non-ASCII in strings (one-line, literal, multi-line,
  // after an escaped backslash), in comments, and after a byte order mark.
  EXPECT_EQ(error_of("[env]\nset.\"\xcd\x84\" = \"x\"\n"), "");  // a dotted key's quoted part
  EXPECT_EQ(error_of("\xef\xbb\xbf# caf\xc3\xa9 \xcd\x84\n[storage]\nread = [\"?/no/such/caf\xc3\xa9\", '?/no/\xcd\x84']\n"
                     "[env]\nset = { A = \"\"\"\xcd\x84\\\\\xcd\x84\n\xcd\x84\"\"\", B = '''\\\xcd\x84''' }  # \xcd\x84\n"),
            "");
}

TEST_F(PolicyFile, OptionalAndGlobPaths) {
  std::ofstream(dir_ + "/data/a.conf") << "a";
  std::ofstream(dir_ + "/data/b.conf") << "b";
  RunConfig c;
  load_policy_file(write("[storage]\nread = [\"?/no/such/file\", \"data/*.conf\", \"?data/none*\"]\n"), c);
  ASSERT_EQ(c.grants.size(), 2u);
  EXPECT_TRUE(c.grants[0].path.ends_with("/data/a.conf"));
  EXPECT_TRUE(c.grants[1].path.ends_with("/data/b.conf"));
  ASSERT_EQ(c.absent_paths.size(), 1u);
  EXPECT_EQ(c.absent_paths[0], "/no/such/file");
  // Without "?", a pattern matching nothing is an error that says how to
  // make it optional.
  std::string err = error_of("[storage]\nread = [\"data/none*\"]\n");
  EXPECT_NE(err.find("write \"?data/none*\" for a path that may be absent"), std::string::npos) << err;
}

// "?unix:PATH": a connect to a socket that may be absent, directory and
// all (nscd's, where no nscd is installed). Loads, and at start becomes a
// grant when the directory exists, else an absent socket (told ENOENT).
TEST_F(PolicyFile, OptionalUnixSocketConnects) {
  RunConfig c;
  load_policy_file(write("[network]\nconnect = [\"?unix:/no/such/dir/socket\", \"?unix:data/app.sock\"]\n"), c);
  ASSERT_EQ(c.net.size(), 2u);
  EXPECT_EQ(c.net[0].spec, "?unix:/no/such/dir/socket");
  EXPECT_EQ(c.net[1].spec, "?unix:" + dir_ + "/data/app.sock");  // relative to the file, like any path
  StorageCaps storage;
  std::vector<NetEndpoint> listen;
  NetCaps caps = build_net_caps(c, storage, listen);
  EXPECT_TRUE(caps.named_absent_socket("/no/such/dir/socket"));
  ASSERT_EQ(caps.connect_grants().size(), 1u);
  char real[PATH_MAX];
  ASSERT_TRUE(realpath((dir_ + "/data").c_str(), real));
  EXPECT_EQ(caps.connect_grants()[0].endpoint.path, std::string(real) + "/app.sock");
  // Without "?", the absent directory is refused when the grants are built.
  RunConfig plain;
  load_policy_file(write("[network]\nconnect = [\"unix:/no/such/dir/socket\"]\n"), plain);
  EXPECT_THROW(build_net_caps(plain, storage, listen), SetupError);
  // Only a unix path connect can be optional.
  for (const char* bad : {"[network]\nconnect = [\"?tcp:127.0.0.1:80\"]\n", "[network]\nconnect = [\"?unix:@name\"]\n",
                          "[network]\nbind = [\"?unix:/no/such/dir/s\"]\n"}) {
    std::string err = error_of(bad);
    EXPECT_NE(err.find("can be optional (?unix:PATH)"), std::string::npos) << bad << ": " << err;
    EXPECT_NE(err.find("policy.toml:2:"), std::string::npos) << err;
  }
}

TEST_F(PolicyFile, EnvAndLimits) {
  RunConfig c;
  load_policy_file(write("[env]\ninherit = [\"PATH\", \"LANG\"]\nset = { A = \"1\", B = \"two words\" }\n"
                         "unset = [\"LANG\"]\n[limits]\nnofile = 64\nmemory = \"1G\"\ncpu = \"unlimited\"\n"),
                   c);
  EXPECT_EQ(c.env.inherit, EnvRequest::Inherit::kListed);
  EXPECT_EQ(c.env.keep, (std::vector<std::string>{"PATH", "LANG"}));
  ASSERT_EQ(c.env.set.size(), 2u);
  EXPECT_EQ(c.env.set[1], (std::pair<std::string, std::string>{"B", "two words"}));
  EXPECT_EQ(c.env.unset, std::vector<std::string>{"LANG"});
  ASSERT_EQ(c.limits.size(), 3u);
  auto value_of = [&](int resource) {
    for (const auto& l : c.limits) {
      if (l.resource == resource) return l.value;
    }
    return uint64_t{0};
  };
  EXPECT_EQ(value_of(RLIMIT_NOFILE), 64u);
  EXPECT_EQ(value_of(RLIMIT_AS), 1ull << 30);
  EXPECT_EQ(value_of(RLIMIT_CPU), RLIM_INFINITY);
  RunConfig wasm;
  load_policy_file(write("[limits]\nwasm_memory = \"64M\"\n"), wasm);
  EXPECT_EQ(wasm.wasm_max_memory, 64ull << 20);
  EXPECT_TRUE(wasm.limits.empty());
  RunConfig none;
  load_policy_file(write("[env]\ninherit = false\n"), none);
  EXPECT_EQ(none.env.inherit, EnvRequest::Inherit::kNone);

  struct Case {
    const char* text;
    const char* where;
    const char* says;
  } cases[] = {
      {"[env]\ninherit = \"yes\"\n", ":2:11:", "must be true, false or a list of names"},
      {"[env]\nset = [\"A=1\"]\n", ":2:7:", "'env.set' must be a table"},
      {"[env]\nset = { A = 1 }\n", ":2:13:", "env.set.A must be a string"},
      {"[env]\nunset = [\"A=B\"]\n", ":2:10:", "not an environment variable name"},
      {"[env]\nkeep = []\n", ":2:1:", "unknown key 'keep' in [env]"},
      {"[limits]\nfiles = 3\n", ":2:1:", "unknown limit 'files' in [limits]; the limits are: nofile"},
      {"[limits]\nwasm_memory = \"lots\"\n", ":2:15:", "write a whole number (K, M or G may follow)"},
      {"[limits]\nnofile = -1\n", ":2:10:", "must not be negative"},
      {"[limits]\nnofile = \"1M\"\n", ":2:10:", "write a whole number or \"unlimited\""},
      {"[limits]\nmemory = \"1T\"\n", ":2:10:", "(K, M or G may follow)"},
      {"[limits]\nmemory = true\n", ":2:10:", "must be a number or a string"},
  };
  for (const auto& k : cases) {
    std::string err = error_of(k.text);
    EXPECT_NE(err.find("policy.toml" + std::string(k.where)), std::string::npos) << k.text << " -> " << err;
    EXPECT_NE(err.find(k.says), std::string::npos) << k.text << " -> " << err;
  }
}

}  // namespace
}  // namespace wwjail
