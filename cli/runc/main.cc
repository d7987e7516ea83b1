// wwjail-runc: an OCI runtime that runs every container's process under
// wwjail, and otherwise is the real runtime (runc, or crun or another by
// --wwjail-runtime PATH or $WWJAIL_RUNTIME). On create and run it rewrites
// the bundle's config.json (cli/runc/bundle_config.h) after validating the
// policy (cli/runc/policy_check.h), then executes the real runtime with the
// same arguments; every other verb goes to it untouched. See wwjail-runc(1).
//
// Exit status: the real runtime's; 1 when wwjail-runc refuses the bundle or
// the command line (as runc exits 1 on its own errors), with one line on
// stderr and the bundle as it was.
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/runc/bundle_config.h"
#include "cli/runc/policy_check.h"
#include "cli/runc/runc_args.h"
#include "sys/atomic_file.h"

namespace wwjail::runc {
constexpr int kRefused = 1;

namespace {
constexpr const char* kDefaultPolicyDir = "/etc/wwjail/policies";

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string dir_of_self() {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) throw BadBundle(std::string("cannot find wwjail-runc's own directory: ") + std::strerror(errno));
  std::string path(self, n);
  return path.substr(0, path.rfind('/'));
}

bool is_executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// wwjail beside wwjail-runc; its runner beside it or in ../libexec/wwjail.
HostFiles host_files(const std::string& bundle) {
  std::string dir = dir_of_self();
  HostFiles h{dir + "/wwjail", "", bundle + "/" + kPolicyInBundle};
  if (!is_executable(h.wwjail)) throw BadBundle("wwjail is not installed beside wwjail-runc (" + h.wwjail + ")");
  for (const std::string& r : {dir + "/wwjail-wasm-run", dir + "/../libexec/wwjail/wwjail-wasm-run"}) {
    char real[PATH_MAX];
    if (is_executable(r) && ::realpath(r.c_str(), real)) {
      h.runner = real;
      break;
    }
  }
  return h;
}

nlohmann::json read_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw BadBundle(path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json config = nlohmann::json::parse(text.str(), nullptr, false);
  if (config.is_discarded() || !config.is_object()) throw BadBundle(path + ": not a JSON object");
  return config;
}

// Validates the policy, then writes it and the wrapped config; nothing
// is written when the policy is refused, and the policy file is taken
// back when the config cannot be written.
void rewrite_bundle(const std::string& bundle_arg) {
  char real[PATH_MAX];
  const std::string given = bundle_arg.empty() ? "." : bundle_arg;
  if (!::realpath(given.c_str(), real)) throw BadBundle("bundle " + given + ": " + std::strerror(errno));
  const std::string bundle = real, config_path = bundle + "/config.json";
  nlohmann::json config = read_config(config_path);
  if (is_pod_sandbox(config)) return;
  HostFiles host = host_files(bundle);
  PolicyChoice policy = choose_policy(config, env_or("WWJAIL_POLICY_DIR", kDefaultPolicyDir));
  CheckView view = check_view(config, bundle);
  view.wwjail_interpreter = elf_interpreter(host.wwjail);
  if (auto refused = check_policy(policy.text, policy.name, view)) throw BadBundle(*refused);
  nlohmann::json wrapped = wrap_config(std::move(config), host);
  struct stat st{};
  mode_t mode = ::stat(config_path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
  write_file_atomically(host.bundle_policy, policy.text, 0644, "writing the policy to");
  try {
    write_file_atomically(config_path, wrapped.dump(2) + "\n", mode, "writing");
  } catch (...) {
    ::unlink(host.bundle_policy.c_str());
    throw;
  }
}

[[noreturn]] void exec_runtime(const RuntimeArgs& args) {
  std::string runtime = args.runtime ? *args.runtime : env_or("WWJAIL_RUNTIME", "runc");
  std::vector<char*> argv{runtime.data()};
  for (const auto& a : args.passed) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(runtime.c_str(), argv.data());
  const int err = errno;
  std::fprintf(stderr, "wwjail-runc: cannot run the runtime %s: %s\n", runtime.c_str(), std::strerror(err));
  ::_exit(err == ENOENT ? 127 : 126);
}

// Engines (containerd, conmon) report a failed create from the runtime's
// --log file, not its stderr: the refusal goes there too, as runc would
// write it.
void log_refusal(const RuntimeArgs& args, const std::string& message) {
  if (args.log_path.empty()) return;
  std::ofstream log(args.log_path, std::ios::app);
  if (args.log_format == "json") {
    log << nlohmann::json{{"level", "error"}, {"msg", "wwjail-runc: " + message}}.dump() << "\n";
  } else {
    log << "wwjail-runc: " << message << "\n";
  }
}

}  // namespace
}  // namespace wwjail::runc

int main(int argc, char** argv) {
  using namespace wwjail::runc;
  RuntimeArgs args;
  try {
    args = parse_runtime_args(std::vector<std::string>(argv + 1, argv + argc));
    if (args.rewrites()) rewrite_bundle(args.bundle);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wwjail-runc: %s\n", e.what());
    log_refusal(args, e.what());
    return kRefused;
  }
  exec_runtime(args);
}
