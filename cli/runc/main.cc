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
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/runc/bundle_config.h"
#include "cli/runc/policy_check.h"
#include "cli/runc/runc_args.h"
#include "policy/program_deps.h"
#include "sys/atomic_file.h"

namespace wwjail::runc {
constexpr int kRefused = 1;

namespace {
constexpr const char* kDefaultPolicyDir = "/etc/wwjail/policies";
constexpr const char* kRuncConfig = "/etc/wwjail/runc.toml";
constexpr const char* kTrustEnv = "WWJAIL_RUNC_TRUST_INLINE_POLICY";

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string trimmed(std::string s) {
  if (size_t hash = s.find('#'); hash != std::string::npos) s.erase(hash);
  const char* blank = " \t\r";
  s.erase(0, s.find_first_not_of(blank) == std::string::npos ? s.size() : s.find_first_not_of(blank));
  if (size_t end = s.find_last_not_of(blank); end != std::string::npos) s.erase(end + 1);
  return s;
}

// The node admin's trust_inline_policy in /etc/wwjail/runc.toml (false
// when the file is absent). Only that key is read; any other line is
// refused, so a typo cannot silently leave the setting as it was.
bool config_trusts_inline_policy() {
  std::ifstream in(kRuncConfig);
  if (!in) return false;
  std::string line;
  bool trusted = false;
  for (int n = 1; std::getline(in, line); ++n) {
    std::string t = trimmed(line);
    if (t.empty()) continue;
    size_t eq = t.find('=');
    std::string key = eq == std::string::npos ? t : trimmed(t.substr(0, eq));
    std::string value = eq == std::string::npos ? "" : trimmed(t.substr(eq + 1));
    if (key != "trust_inline_policy" || (value != "true" && value != "false"))
      throw BadBundle(std::string(kRuncConfig) + ":" + std::to_string(n) + ": only trust_inline_policy = true|false is read");
    trusted = value == "true";
  }
  return trusted;
}

// An inline policy annotation is the container's author choosing its own
// policy (Podman copies an image's manifest annotations into config.json):
// taken only when the node admin says annotations are trusted.
void check_inline_policy_trusted(const nlohmann::json& config) {
  auto a = config.find("annotations");
  if (a == config.end() || !a->is_object() || !a->contains(kPolicyAnnotation)) return;
  if (env_or(kTrustEnv, "") == "1" || config_trusts_inline_policy()) return;
  throw BadBundle(std::string("annotation ") + kPolicyAnnotation + " is not trusted on this node: set trust_inline_policy = true in " +
                  kRuncConfig + " (or " + kTrustEnv + "=1), or use " + kPolicyFileAnnotation);
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

// The links beside a library that name it (libcap.so.2 for libcap.so.2.66):
// its DT_NEEDED name is one of them, and wwjail's loader looks it up so.
std::vector<std::string> aliases_of(const std::string& lib) {
  std::vector<std::string> out;
  const std::string dir = lib.substr(0, lib.rfind('/'));
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code link_ec;
    if (!e.is_symlink(link_ec)) continue;
    std::filesystem::path target = std::filesystem::canonical(e.path(), link_ec);
    if (!link_ec && target == lib) out.push_back(e.path().string());
  }
  return out;
}

// The host's loader and wwjail's libraries, so that wwjail is started by
// them and not by the image's (see HostFiles). A static wwjail needs none.
void add_host_loader(HostFiles& h) {
  h.loader = elf_interpreter(h.wwjail);
  if (h.loader.empty()) return;
  for (const std::string& lib : find_program_deps(h.wwjail).libraries) {
    h.libraries.push_back(lib);
    for (const std::string& alias : aliases_of(lib)) h.libraries.push_back(alias);
  }
  if (::access(h.loader.c_str(), R_OK) != 0) throw BadBundle("wwjail's loader " + h.loader + " is not on the host");
}

// The image's /etc/ld.so.preload (in its root file system or a bind at
// /etc), which every loader reads, is covered by an empty host file.
bool image_has_preload(const nlohmann::json& config, const std::string& bundle) {
  struct stat st{};
  std::string root = config.value("/root/path"_json_pointer, std::string());
  if (!root.empty() && root[0] != '/') root = bundle + "/" + root;
  if (!root.empty() && ::lstat((root + "/etc/ld.so.preload").c_str(), &st) == 0) return true;
  auto mounts = config.find("mounts");
  if (mounts == config.end() || !mounts->is_array()) return false;
  for (const auto& m : *mounts)
    if (m.value("destination", std::string()) == "/etc" &&
        ::lstat((m.value("source", std::string()) + "/ld.so.preload").c_str(), &st) == 0)
      return true;
  return false;
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
  check_inline_policy_trusted(config);
  HostFiles host = host_files(bundle);
  add_host_loader(host);
  if (image_has_preload(config, bundle)) host.empty_file = bundle + "/wwjail-empty";
  PolicyChoice policy = choose_policy(config, env_or("WWJAIL_POLICY_DIR", kDefaultPolicyDir));
  CheckView view = check_view(config, bundle);
  // The host's loader is mounted: the image needs none of its own.
  if (auto refused = check_policy(policy.text, policy.name, view)) throw BadBundle(*refused);
  nlohmann::json wrapped = wrap_config(std::move(config), host);
  struct stat st{};
  mode_t mode = ::stat(config_path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
  write_file_atomically(host.bundle_policy, policy.text, 0644, "writing the policy to");
  try {
    if (!host.empty_file.empty()) write_file_atomically(host.empty_file, "", 0444, "writing");
    write_file_atomically(config_path, wrapped.dump(2) + "\n", mode, "writing");
  } catch (...) {
    ::unlink(host.bundle_policy.c_str());
    if (!host.empty_file.empty()) ::unlink(host.empty_file.c_str());
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
