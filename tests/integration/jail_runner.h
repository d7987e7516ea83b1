// Runs the wwjail binary (or any program) as a black box and captures what
// a user would see: stdout, stderr and the exit status.
#pragma once

#include <string>
#include <vector>

namespace wwjail::testing {

struct RunResult {
  int exit_code = -1;  // 128+N when killed by signal N, like a shell
  std::string out;
  std::string err;
};

// Runs argv[0] with argv, stdin from /dev/null (or `input`), and waits.
// Kills it after `timeout_s` seconds (exit_code then reports SIGKILL).
RunResult run(const std::vector<std::string>& argv, const std::string& input = "", int timeout_s = 60);

// wwjail's path and a guest's path in the build tree.
std::string wwjail_bin();
std::string guest(const std::string& name);

// wwjail [args...] -- command..., with --mediate files unless args name a mode.
RunResult jail(const std::vector<std::string>& args, const std::vector<std::string>& command, int timeout_s = 60);

// How a run's file grants are enforced, for suites that run in every mode:
// wwjail's flags for it (which name --mediate, so jail() adds nothing), and
// a command wwjail runs under (a guest that forbids namespaces), if any.
struct JailMode {
  std::vector<std::string> prefix;
  std::vector<std::string> flags;
};
JailMode mediated_mode();      // --mediate files: the broker decides every file call
JailMode broker_opens_mode();  // the same, and the broker performs every open
JailMode view_mode();          // --mediate auto: kernel-first, in a view where only grants exist
JailMode landlock_mode();      // kernel-first without a view (no namespaces), metadata visible

// prefix... wwjail flags... [args...] -- command...
RunResult jail(const JailMode& mode, const std::vector<std::string>& args, const std::vector<std::string>& command,
               int timeout_s = 60);

// The whole of file `path` (empty when it cannot be read).
std::string read_file(const std::string& path);

// The lines of `text`, without their newlines.
std::vector<std::string> split_lines(const std::string& text);

// A run as a failure message: its exit status, then stdout and stderr, each
// cut to `limit` characters.
std::string describe(const RunResult& r, size_t limit = 4000);

// One run of the escape_calls guest (tests/guests). outcome[i] is what op i
// reported with its name stripped: "ok [data]", "err ENAME", "killed
// SIGNAME", "LEAK ...", or a "<missing ...>" note when it printed no line.
using Op = std::vector<std::string>;  // {"read", "/path"}: one escape_calls operation
struct Calls {
  RunResult run;
  std::vector<std::string> outcome;
  const std::string& operator[](size_t i) const { return outcome.at(i); }
};
// escape_calls with `ops` under wwjail `jail_args` (jail()), or run natively
// when `jailed` is false.
Calls calls(const std::vector<std::string>& jail_args, const std::vector<Op>& ops, bool jailed = true);
// The same in `mode`.
Calls calls(const JailMode& mode, const std::vector<std::string>& jail_args, const std::vector<Op>& ops);

// A scratch directory removed at destruction, for files tests grant.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name, const std::string& content) const;  // writes it, returns path
  std::string sub(const std::string& name) const;                               // mkdir, returns path

 private:
  std::string path_;
};

}  // namespace wwjail::testing
