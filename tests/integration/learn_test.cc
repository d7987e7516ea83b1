// wwjail learn on real programs: the learned policy passes `check`, the
// same workload under it runs with zero denials, and a different program
// touching other files is denied.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

bool has_denial(const std::string& err) { return err.find("wwjail: warning: denied") != std::string::npos; }

struct RoundTrip {
  std::string policy_text;
  RunResult learned, enforced;
};

// Learns `command`, checks the policy, then runs `command` again under it.
// `between` runs after learning (to remove what the learning run made).
RoundTrip round_trip(const std::string& policy, const std::vector<std::string>& command,
                     const std::function<void()>& between = [] {}) {
  RoundTrip t;
  std::vector<std::string> learn_argv = {wwjail_bin(), "learn", "-o", policy, "--"};
  learn_argv.insert(learn_argv.end(), command.begin(), command.end());
  t.learned = run(learn_argv, "", 120);
  t.policy_text = read_file(policy);
  auto check = run({wwjail_bin(), "check", policy});
  EXPECT_EQ(check.exit_code, 0) << "the learned policy must pass check: " << check.err << "\n" << t.policy_text;
  between();
  t.enforced = jail({"-p", policy}, command, 120);
  return t;
}

TEST(Learn, ShellPipelineWithHelpersAndAnOutputDir) {
  ScratchDir d;
  std::string data = d.sub("data"), out = d.sub("out");
  d.file("data/in.txt", "pear\napple\nfig\n");
  std::string secret = d.file("secret.txt", "s\n");
  std::string script = "sort " + data + "/in.txt | head -n 2 > " + out + "/result.txt";
  auto t = round_trip(d.path() + "/p.toml", {"/bin/sh", "-c", script},
                      [&] { ::unlink((out + "/result.txt").c_str()); });
  ASSERT_EQ(t.learned.exit_code, 0) << t.learned.err;
  EXPECT_NE(t.learned.err.find("learned policy written to"), std::string::npos) << t.learned.err;
  EXPECT_NE(t.policy_text.find("# WRITE OUTSIDE THE PRIVATE TEMP DIR"), std::string::npos) << t.policy_text;
  EXPECT_NE(t.policy_text.find("\"" + out + "\""), std::string::npos) << t.policy_text;
  EXPECT_NE(t.policy_text.find("/usr/bin/sort"), std::string::npos) << t.policy_text;
  EXPECT_EQ(t.enforced.exit_code, 0) << t.enforced.err;
  EXPECT_FALSE(has_denial(t.enforced.err)) << t.enforced.err << "\n" << t.policy_text;
  EXPECT_EQ(read_file(out + "/result.txt"), "apple\nfig\n");
  // Another program under the same policy: not granted.
  auto other = jail({"-p", d.path() + "/p.toml"}, {"/bin/sh", "-c", "sort " + secret});
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.err.find("denied pid="), std::string::npos) << other.err;
  EXPECT_NE(other.err.find(secret), std::string::npos) << other.err;
}

TEST(Learn, PythonScriptReadingConfigAndWritingAReport) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "python3 is not installed";
  ScratchDir d;
  std::string conf = d.file("conf.json", "{\"name\": \"wwjail\", \"n\": 3}\n");
  std::string reports = d.sub("reports");
  d.sub("private");
  std::string other = d.file("private/other.json", "{}\n");
  std::string script = d.file("report.py",
                              "import json, sys, pathlib\n"
                              "cfg = json.load(open(sys.argv[1]))\n"
                              "pathlib.Path(sys.argv[2], 'r.txt').write_text(cfg['name'] * cfg['n'])\n"
                              "print('done')\n");
  auto t = round_trip(d.path() + "/p.toml", {"/usr/bin/python3", "-B", script, conf, reports});
  ASSERT_EQ(t.learned.exit_code, 0) << t.learned.err;
  EXPECT_NE(t.policy_text.find("include = [\"base:python3\"]"), std::string::npos) << t.policy_text;
  EXPECT_EQ(t.enforced.exit_code, 0) << t.enforced.err;
  EXPECT_EQ(t.enforced.out, "done\n");
  EXPECT_FALSE(has_denial(t.enforced.err)) << t.enforced.err << "\n" << t.policy_text;
  EXPECT_EQ(read_file(reports + "/r.txt"), "wwjailwwjailwwjail");
  auto denied = jail({"-p", d.path() + "/p.toml"}, {"/usr/bin/python3", "-B", script, other, reports});
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.err.find("denied pid="), std::string::npos) << denied.err;
  EXPECT_NE(denied.err.find(other), std::string::npos) << denied.err;
}

TEST(Learn, CompilerJobExecsItsHelpers) {
  if (::access("/usr/bin/gcc", X_OK) != 0) GTEST_SKIP() << "gcc is not installed";
  ScratchDir d;
  std::string src = d.file("hello.c", "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n");
  std::string elsewhere = d.sub("elsewhere");
  std::string other_src = d.file("elsewhere/other.c", "int main(void) { return 0; }\n");
  std::string bin = d.sub("bin");
  auto t = round_trip(d.path() + "/p.toml", {"/usr/bin/gcc", "-o", bin + "/hello", src},
                      [&] { ::unlink((bin + "/hello").c_str()); });
  ASSERT_EQ(t.learned.exit_code, 0) << t.learned.err;
  EXPECT_NE(t.policy_text.find("exec = ["), std::string::npos) << t.policy_text;
  EXPECT_NE(t.policy_text.find("cc1"), std::string::npos) << t.policy_text;
  EXPECT_EQ(t.enforced.exit_code, 0) << t.enforced.err;
  EXPECT_FALSE(has_denial(t.enforced.err)) << t.enforced.err << "\n" << t.policy_text;
  EXPECT_EQ(run({bin + "/hello"}).out, "hello\n");
  auto denied = jail({"-p", d.path() + "/p.toml"}, {"/usr/bin/gcc", "-o", bin + "/other", other_src});
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.err.find(other_src), std::string::npos) << denied.err;
}

TEST(Learn, BadInvocations) {
  auto no_output = run({wwjail_bin(), "learn", "--", "/bin/true"});
  EXPECT_EQ(no_output.exit_code, 125);
  EXPECT_NE(no_output.err.find("--output is required"), std::string::npos) << no_output.err;
  auto nowhere = run({wwjail_bin(), "learn", "-o", "/no/such/dir/p.toml", "--", "/bin/true"});
  EXPECT_EQ(nowhere.exit_code, 125);
  EXPECT_NE(nowhere.err.find("/no/such/dir/p.toml"), std::string::npos) << nowhere.err;
  ::unlink("/tmp/never-written.toml");
  auto missing = run({wwjail_bin(), "learn", "-o", "/tmp/never-written.toml", "--", "/no/such/program"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(::access("/tmp/never-written.toml", F_OK), 0);
}

// Round trips, learn -> check -> run, on real programs none of us wrote: each
// learned policy passes `check` (also after the program's output is
// deleted), the same workload under it logs no denial in JSON and gives the
// same result, and a secret outside what it worked on is still denied.
// A test is skipped only when its program is not installed.
size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

bool installed(const char* path) { return ::access(path, X_OK) == 0; }

// Denials in a --log-format json log (and a text one, should a line slip).
size_t denials(const std::string& log) {
  return count(log, "\"decision\":\"deny\"") + count(log, "wwjail: warning: denied");
}

std::vector<std::string> learn_argv(const std::string& policy, const std::vector<std::string>& command) {
  std::vector<std::string> argv = {wwjail_bin(), "learn", "-o", policy, "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

// wwjail -p POLICY --log-format json -- command...
std::vector<std::string> enforce_argv(const std::string& policy, const std::vector<std::string>& command) {
  std::vector<std::string> argv = {wwjail_bin(), "-p", policy, "--log-format", "json", "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

void expect_check_passes(const std::string& policy, const std::string& when) {
  auto check = run({wwjail_bin(), "check", policy});
  EXPECT_EQ(check.exit_code, 0) << "check " << when << ": " << check.err << "\n" << read_file(policy);
}

// The same command under the policy, logging in JSON.
RunResult enforce(const std::string& policy, const std::vector<std::string>& command) {
  return jail({"-p", policy, "--log-format", "json"}, command, 120);
}

// A denial naming `target` in the log of a run that was refused.
void expect_denied(const RunResult& r, const std::string& target) {
  EXPECT_GE(denials(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find(target), std::string::npos) << r.err;
}

uint16_t free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

// One HTTP/1.0 GET on loopback: the whole response, or "" when nothing
// listens there.
std::string http_get(uint16_t port, const std::string& path) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::write(s, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::read(s, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(s);
  return out;
}

std::string body_of(const std::string& response) {
  auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

// A program running in the background (a server), its stderr in a file.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::string& err_file, const std::string& cwd = "/") {
    pid_ = ::fork();
    if (pid_ == 0) {
      int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(err, 2);
      if (::chdir(cwd.c_str()) != 0) ::_exit(126);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) stop(SIGKILL);
  }
  // Waits until a connect to `port` succeeds (or the program exits).
  bool wait_for_port(uint16_t port) {
    for (int i = 0; i < 300; ++i) {
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      bool up = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(s);
      if (up) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // Sends `sig`, waits up to 30 s (then SIGKILL); the exit status, as a shell.
  int stop(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    for (int i = 0; i < 300 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

TEST(LearnRoundTrip, Sqlite3WritesADatabase) {
  if (!installed("/usr/bin/sqlite3")) GTEST_SKIP() << "sqlite3 is not installed";
  ScratchDir d;
  std::string data = d.sub("data"), db = data + "/app.db";
  d.sub("private");
  std::string secret = d.file("private/secret.db", "");
  std::string policy = d.path() + "/p.toml";
  std::vector<std::string> cmd = {"/usr/bin/sqlite3", db, "create table t(x); insert into t values(42);"};
  auto learned = run(learn_argv(policy, cmd), "", 120);
  ASSERT_EQ(learned.exit_code, 0) << learned.err;
  expect_check_passes(policy, "on the host that learned it");
  ASSERT_EQ(::unlink(db.c_str()), 0);
  expect_check_passes(policy, "after the database was deleted");
  auto again = enforce(policy, cmd);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(denials(again.err), 0u) << again.err << "\n" << read_file(policy);
  EXPECT_EQ(run({"/usr/bin/sqlite3", db, "select x from t;"}).out, "42\n");
  auto other = enforce(policy, {"/usr/bin/sqlite3", secret, "create table t(x);"});
  EXPECT_NE(other.exit_code, 0);
  expect_denied(other, secret);
}

TEST(LearnRoundTrip, TarOfATreeThatThenGainsAFile) {
  if (!installed("/usr/bin/tar")) GTEST_SKIP() << "tar is not installed";
  ScratchDir d;
  d.sub("tree");
  d.sub("tree/sub");
  d.file("tree/a.txt", "a\n");
  d.file("tree/sub/b.txt", "b\n");
  std::string out = d.sub("out"), archive = out + "/tree.tar";
  d.sub("private");
  d.file("private/secret.txt", "s\n");
  std::string policy = d.path() + "/p.toml";
  std::vector<std::string> cmd = {"/usr/bin/tar", "-cf", archive, "-C", d.path(), "tree"};
  auto learned = run(learn_argv(policy, cmd), "", 120);
  ASSERT_EQ(learned.exit_code, 0) << learned.err;
  expect_check_passes(policy, "on the host that learned it");
  ASSERT_EQ(::unlink(archive.c_str()), 0);
  expect_check_passes(policy, "after the archive was deleted");
  d.file("tree/new.txt", "new\n");
  d.file("tree/sub/new2.txt", "new2\n");
  auto again = enforce(policy, cmd);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(denials(again.err), 0u) << again.err << "\n" << read_file(policy);
  std::string listing = run({"/usr/bin/tar", "-tf", archive}).out;
  for (const char* f : {"tree/a.txt", "tree/sub/b.txt", "tree/new.txt", "tree/sub/new2.txt"})
    EXPECT_NE(listing.find(f), std::string::npos) << f << " missing from\n" << listing;
  auto other = enforce(policy, {"/usr/bin/tar", "-cf", archive, "-C", d.path(), "private"});
  EXPECT_NE(other.exit_code, 0);
  expect_denied(other, d.path() + "/private");
}

TEST(LearnRoundTrip, CurlAgainstALocalServer) {
  if (!installed("/usr/bin/curl")) GTEST_SKIP() << "curl is not installed";
  if (!installed("/usr/bin/python3")) GTEST_SKIP() << "python3 (the test's server) is not installed";
  ScratchDir d;
  std::string www = d.sub("www");
  d.file("www/page.txt", "hello from the server\n");
  std::string out = d.sub("out"), got = out + "/page.txt";
  d.sub("private");
  std::string secret = d.file("private/secret.txt", "s\n");
  uint16_t port = free_port();
  Background server({"/usr/bin/python3", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1",
                     "--directory", www},
                    d.path() + "/server.err");
  ASSERT_TRUE(server.wait_for_port(port)) << read_file(d.path() + "/server.err");
  std::string policy = d.path() + "/p.toml";
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/page.txt";
  std::vector<std::string> cmd = {"/usr/bin/curl", "-sS", "-o", got, url};
  auto learned = run(learn_argv(policy, cmd), "", 120);
  ASSERT_EQ(learned.exit_code, 0) << learned.err;
  std::string text = read_file(policy);
  // openssl.cnf is read at start-up, but a plain HTTP fetch resolves nothing.
  EXPECT_EQ(text.find("base:tls-client"), std::string::npos) << text;
  EXPECT_EQ(text.find("dns = true"), std::string::npos) << text;
  expect_check_passes(policy, "on the host that learned it");
  ASSERT_EQ(::unlink(got.c_str()), 0);
  expect_check_passes(policy, "after the download was deleted");
  auto again = enforce(policy, cmd);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(denials(again.err), 0u) << again.err << "\n" << text;
  EXPECT_EQ(read_file(got), "hello from the server\n");
  auto other = enforce(policy, {"/usr/bin/curl", "-sS", "-o", got, "file://" + secret});
  EXPECT_NE(other.exit_code, 0);
  expect_denied(other, secret);
}

TEST(LearnRoundTrip, PythonHttpServerServesAnotherFileOfTheDirectory) {
  if (!installed("/usr/bin/python3")) GTEST_SKIP() << "python3 is not installed";
  ScratchDir d;
  std::string www = d.sub("www");
  d.file("www/one.txt", "one\n");
  d.file("www/two.txt", "two\n");
  d.sub("private");
  std::string secret = d.file("private/secret.txt", "s\n");
  std::string policy = d.path() + "/p.toml";
  uint16_t port = free_port();
  std::vector<std::string> cmd = {"/usr/bin/python3", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1"};
  {
    Background learning(learn_argv(policy, cmd), d.path() + "/learn.err", www);
    ASSERT_TRUE(learning.wait_for_port(port)) << read_file(d.path() + "/learn.err");
    EXPECT_EQ(body_of(http_get(port, "/one.txt")), "one\n");
    EXPECT_EQ(learning.stop(SIGINT), 0) << read_file(d.path() + "/learn.err");
  }
  expect_check_passes(policy, "on the host that learned it");
  {
    Background serving(enforce_argv(policy, cmd), d.path() + "/run.err", www);
    ASSERT_TRUE(serving.wait_for_port(port)) << read_file(d.path() + "/run.err");
    std::string two = http_get(port, "/two.txt");
    EXPECT_NE(two.find(" 200 "), std::string::npos) << two;
    EXPECT_EQ(body_of(two), "two\n");
    EXPECT_EQ(serving.stop(SIGINT), 0);
  }
  std::string log = read_file(d.path() + "/run.err");
  EXPECT_EQ(denials(log), 0u) << log << "\n" << read_file(policy);
  auto other = enforce(policy, {"/usr/bin/python3", "-c", "open('" + secret + "').read()"});
  EXPECT_NE(other.exit_code, 0);
  expect_denied(other, secret);
}

std::string nginx_conf(const std::string& prefix, const std::string& root, uint16_t port) {
  return "daemon off;\nmaster_process off;\nworker_processes 1;\nuser root;\n"
         "pid " + prefix + "/run/nginx.pid;\nerror_log " + prefix + "/run/error.log;\n"
         "events { worker_connections 16; }\n"
         "http {\n  access_log " + prefix + "/run/access.log;\n"
         "  client_body_temp_path " + prefix + "/run/body;\n  proxy_temp_path " + prefix + "/run/proxy;\n"
         "  fastcgi_temp_path " + prefix + "/run/fastcgi;\n  uwsgi_temp_path " + prefix + "/run/uwsgi;\n"
         "  scgi_temp_path " + prefix + "/run/scgi;\n"
         "  server { listen 127.0.0.1:" + std::to_string(port) + "; root " + root + "; }\n}\n";
}

TEST(LearnRoundTrip, NginxServesADirectory) {
  if (!installed("/usr/sbin/nginx")) GTEST_SKIP() << "nginx is not installed";
  ScratchDir d;
  std::string www = d.sub("www");
  d.file("www/index.html", "<p>hi</p>\n");
  std::string run_dir = d.sub("run");
  d.sub("private");
  uint16_t port = free_port();
  std::string conf = d.file("nginx.conf", nginx_conf(d.path(), www, port));
  std::string secret_conf = d.file("private/nginx.conf", nginx_conf(d.path(), d.path() + "/private", port));
  std::string policy = d.path() + "/p.toml";
  std::vector<std::string> cmd = {"/usr/sbin/nginx", "-p", d.path(), "-c", conf, "-e", run_dir + "/error.log"};
  {
    Background learning(learn_argv(policy, cmd), d.path() + "/learn.err");
    ASSERT_TRUE(learning.wait_for_port(port)) << read_file(d.path() + "/learn.err") << read_file(run_dir + "/error.log");
    EXPECT_EQ(body_of(http_get(port, "/index.html")), "<p>hi</p>\n");
    EXPECT_EQ(learning.stop(SIGQUIT), 0) << read_file(d.path() + "/learn.err");
  }
  expect_check_passes(policy, "on the host that learned it");
  std::filesystem::remove_all(run_dir);
  ASSERT_EQ(::mkdir(run_dir.c_str(), 0755), 0);
  expect_check_passes(policy, "after the pid and log files were deleted");
  {
    Background serving(enforce_argv(policy, cmd), d.path() + "/run.err");
    ASSERT_TRUE(serving.wait_for_port(port)) << read_file(d.path() + "/run.err");
    std::string page = http_get(port, "/index.html");
    EXPECT_NE(page.find(" 200 "), std::string::npos) << page;
    EXPECT_EQ(body_of(page), "<p>hi</p>\n");
    EXPECT_EQ(serving.stop(SIGQUIT), 0);
  }
  std::string log = read_file(d.path() + "/run.err");
  EXPECT_EQ(denials(log), 0u) << log << "\n" << read_file(policy);
  auto other = enforce(policy, {"/usr/sbin/nginx", "-p", d.path(), "-c", secret_conf, "-e", run_dir + "/error.log"});
  EXPECT_NE(other.exit_code, 0);
  expect_denied(other, secret_conf);
}

TEST(LearnRoundTrip, GitInitAddCommitInAFreshWorkDir) {
  if (!installed("/usr/bin/git")) GTEST_SKIP() << "git is not installed";
  ScratchDir d;
  std::string work = d.sub("work");
  d.file("work/f.txt", "hello\n");
  std::string priv = d.sub("private");
  std::string policy = d.path() + "/p.toml";
  std::string script = "git init -q " + work + " && git -C " + work + " add f.txt && git -C " + work +
                       " -c user.name=t -c user.email=t@example.org commit -qm first";
  std::vector<std::string> cmd = {"/bin/sh", "-c", script};
  auto learned = run(learn_argv(policy, cmd), "", 120);
  ASSERT_EQ(learned.exit_code, 0) << learned.err;
  expect_check_passes(policy, "on the host that learned it");
  std::filesystem::remove_all(work + "/.git");
  expect_check_passes(policy, "after the repository was deleted");
  auto again = enforce(policy, cmd);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(denials(again.err), 0u) << again.err << "\n" << read_file(policy);
  EXPECT_EQ(count(run({"/usr/bin/git", "-C", work, "log", "--oneline"}).out, "first"), 1u);
  auto other = enforce(policy, {"/usr/bin/git", "init", "-q", priv});
  EXPECT_NE(other.exit_code, 0);
  expect_denied(other, priv);
}

}  // namespace
}  // namespace wwjail::testing
