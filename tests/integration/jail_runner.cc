#include "jail_runner.h"

#include <algorithm>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace wwjail::testing {

RunResult run(const std::vector<std::string>& argv, const std::string& input, int timeout_s) {
  int out[2], err[2], in[2];
  if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(in, O_CLOEXEC)) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  close(in[0]);
  if (!input.empty()) (void)!write(in[1], input.data(), input.size());
  close(in[1]);
  RunResult r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int open_fds = 2;
  while (open_fds > 0) {
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (left <= 0) {
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, left) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, n);
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// The build tree's paths, unless the environment points elsewhere (the
// unprivileged run copies the binaries where another user can reach them).
std::string wwjail_bin() {
  const char* env = std::getenv("WWJAIL_TEST_BIN");
  return env && *env ? env : WWJAIL_BIN;
}
std::string guest(const std::string& name) {
  const char* env = std::getenv("WWJAIL_TEST_GUEST_DIR");
  return std::string(env && *env ? env : GUEST_DIR) + "/" + name;
}

RunResult jail(const std::vector<std::string>& args, const std::vector<std::string>& command, int timeout_s) {
  // The broker mediates unless a test asks for a mode: these tests check
  // the broker's decisions and log lines (tests/integration/view_test.cc
  // covers the kernel-first mode; the escape suites run in every JailMode).
  bool names_mode = std::find(args.begin(), args.end(), "--mediate") != args.end();
  return jail(names_mode ? JailMode{} : mediated_mode(), args, command, timeout_s);
}

JailMode mediated_mode() { return {{}, {"--mediate", "files"}}; }
JailMode broker_opens_mode() { return {{}, {"--mediate", "files", "--broker-opens"}}; }
JailMode view_mode() { return {{}, {"--mediate", "auto"}}; }
JailMode landlock_mode() { return {{guest("no_namespaces")}, {"--mediate", "auto", "--metadata", "visible"}}; }

RunResult jail(const JailMode& mode, const std::vector<std::string>& args, const std::vector<std::string>& command,
               int timeout_s) {
  std::vector<std::string> argv = mode.prefix;
  argv.push_back(wwjail_bin());
  argv.insert(argv.end(), mode.flags.begin(), mode.flags.end());
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return run(argv, "", timeout_s);
}

ScratchDir::ScratchDir() {
  char tmpl[] = "/tmp/wwjail-test.XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
  path_ = tmpl;
  chmod(path_.c_str(), 0755);
}

ScratchDir::~ScratchDir() {
  std::string cmd = "rm -rf '" + path_ + "'";
  (void)!std::system(cmd.c_str());
}

std::string ScratchDir::file(const std::string& name, const std::string& content) const {
  std::string p = path_ + "/" + name;
  std::ofstream(p) << content;
  return p;
}

std::string ScratchDir::sub(const std::string& name) const {
  std::string p = path_ + "/" + name;
  mkdir(p.c_str(), 0755);
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string describe(const RunResult& r, size_t limit) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout:\n" + r.out.substr(0, limit) + "\n--- stderr:\n" +
         r.err.substr(0, limit);
}

namespace {

Calls parse_calls(RunResult run, const std::vector<Op>& ops) {
  Calls c;
  c.run = std::move(run);
  auto lines = split_lines(c.run.out);
  for (size_t i = 0; i < ops.size(); ++i) {
    std::string prefix = ops[i][0] + " ";
    if (i < lines.size() && lines[i].rfind(prefix, 0) == 0) {
      c.outcome.push_back(lines[i].substr(prefix.size()));
    } else {
      c.outcome.push_back("<missing: op " + std::to_string(i) + " " + ops[i][0] + " printed no line>");
    }
  }
  return c;
}

std::vector<std::string> calls_command(const std::vector<Op>& ops) {
  std::vector<std::string> command{guest("escape_calls")};
  for (const auto& op : ops) command.insert(command.end(), op.begin(), op.end());
  return command;
}

}  // namespace

Calls calls(const std::vector<std::string>& jail_args, const std::vector<Op>& ops, bool jailed) {
  auto command = calls_command(ops);
  return parse_calls(jailed ? jail(jail_args, command, 30) : run(command, "", 30), ops);
}

Calls calls(const JailMode& mode, const std::vector<std::string>& jail_args, const std::vector<Op>& ops) {
  return parse_calls(jail(mode, jail_args, calls_command(ops), 30), ops);
}

}  // namespace wwjail::testing
