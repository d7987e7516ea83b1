#include "cli/runc/bundle_config.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace wwjail::runc {

const char* const kDefaultContainerPolicy = R"(# wwjail-runc's default container policy (no org.wwjail.policy annotation).
# Read the image, run its programs, write only the private temp dir, no network.
[storage]
read = ["?/usr", "?/bin", "?/sbin", "?/lib", "?/lib32", "?/lib64", "?/libx32", "?/etc", "?/opt",
        "?/srv", "?/var", "?/home", "?/root", "?/app"]
exec = ["?/usr", "?/bin", "?/sbin", "?/lib", "?/lib64", "?/opt", "?/app"]
)";

namespace {

const nlohmann::json* annotation(const nlohmann::json& config, const char* key) {
  auto a = config.find("annotations");
  if (a == config.end() || !a->is_object()) return nullptr;
  auto v = a->find(key);
  if (v == a->end()) return nullptr;
  if (!v->is_string()) throw BadBundle(std::string("annotation ") + key + " must be a string");
  return &*v;
}

bool inside(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

// The host file a policy-file annotation names, read whole.
std::string read_policy_file(const std::string& path, const std::string& policy_dir) {
  const std::string what = std::string("annotation ") + kPolicyFileAnnotation + " " + path;
  char real[PATH_MAX], dir[PATH_MAX];
  if (path.empty() || path[0] != '/') throw BadBundle(what + ": give an absolute path");
  if (!::realpath(policy_dir.c_str(), dir)) throw BadBundle(what + ": the policy directory " + policy_dir + " does not exist");
  if (!::realpath(path.c_str(), real)) throw BadBundle(what + ": " + std::strerror(errno));
  if (!inside(real, dir))
    throw BadBundle(what + ": not under " + dir + " (the host directory policies are taken from; WWJAIL_POLICY_DIR)");
  int fd = ::open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) throw BadBundle(what + ": " + std::strerror(errno));
  struct stat st{};
  std::string text;
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= (1 << 20);
  if (ok) {
    text.resize(st.st_size);
    ok = ::read(fd, text.data(), text.size()) == st.st_size;
  }
  ::close(fd);
  if (!ok) throw BadBundle(what + ": not a readable regular file of at most 1 MiB");
  return text;
}

bool under_inside_dir(const nlohmann::json& mount) {
  auto d = mount.find("destination");
  if (d == mount.end() || !d->is_string()) return false;
  std::string dest = d->get<std::string>();
  while (dest.size() > 1 && dest.back() == '/') dest.pop_back();
  return dest == kInsideDir || inside(dest, kInsideDir);
}

nlohmann::json bind_ro(const std::string& source, const char* destination, const std::string& dest_text = "") {
  return {{"destination", destination ? std::string(destination) : dest_text},
          {"type", "bind"},
          {"source", source},
          {"options", {"bind", "ro", "nosuid", "nodev"}}};
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

std::string lib_inside(const std::string& host_path) { return std::string(kLibInside) + "/" + base_name(host_path); }

// Takes out a wrap an earlier create put there: everything up to and
// including the "--" after /.wwjail/policy.toml, when args start with
// wwjail or a loader under /.wwjail/lib. The container's env that wrap
// moved to --env goes back to process.env.
void unwrap(nlohmann::json& args, nlohmann::json& process) {
  while (!args.empty() && args[0].is_string()) {
    const std::string first = args[0].get<std::string>();
    if (first != kWwjailInside && first.rfind(std::string(kLibInside) + "/", 0) != 0) return;
    size_t end = 0;
    for (size_t i = 0; i + 2 < args.size() && !end; ++i)
      if (args[i] == "--policy" && args[i + 1] == kPolicyInside && args[i + 2] == "--") end = i + 3;
    if (!end || end >= args.size()) return;
    nlohmann::json env = nlohmann::json::array();
    bool moved = false;
    for (size_t i = 1; i < end; ++i) {
      moved = moved || args[i] == "--clean-env";
      const std::string a = args[i].is_string() ? args[i].get<std::string>() : "";
      if (a.rfind("--env=", 0) == 0) env.push_back(a.substr(6));
    }
    if (moved) process["env"] = std::move(env);
    args.erase(args.begin(), args.begin() + end);
  }
}

bool wwjail_reads(const std::string& entry) {
  for (const char* name : {"PATH=", "TMPDIR=", "XDG_RUNTIME_DIR=", "HOME="})
    if (entry.rfind(name, 0) == 0) return true;
  return false;
}

// The loader's command line for wwjail, and the container's env moved from
// wwjail's own process to its guest (--clean-env, then --env for each).
nlohmann::json loader_prefix(nlohmann::json& process, const HostFiles& host) {
  nlohmann::json prefix = {lib_inside(host.loader), "--inhibit-cache", "--library-path", kLibInside, kWwjailInside,
                           "--clean-env"};
  nlohmann::json own = nlohmann::json::array();
  auto env = process.find("env");
  if (env != process.end() && env->is_array()) {
    for (const auto& e : *env) {
      if (!e.is_string()) throw BadBundle("config.json: process.env holds something other than strings");
      prefix.push_back("--env=" + e.get<std::string>());  // one word: a value may start with a dash
      if (wwjail_reads(e.get<std::string>())) own.push_back(e);
    }
  }
  process["env"] = std::move(own);
  return prefix;
}

void append_loader_mounts(nlohmann::json& mounts, const HostFiles& host) {
  mounts.push_back(bind_ro(host.loader, nullptr, lib_inside(host.loader)));
  for (const std::string& lib : host.libraries)
    if (base_name(lib) != base_name(host.loader)) mounts.push_back(bind_ro(lib, nullptr, lib_inside(lib)));
  // wwjail finds its runner beside /proc/self/exe (the loader) or in ../libexec/wwjail.
  if (!host.runner.empty()) mounts.push_back(bind_ro(host.runner, "/.wwjail/libexec/wwjail/wwjail-wasm-run"));
  if (!host.empty_file.empty()) mounts.push_back(bind_ro(host.empty_file, "/etc/ld.so.preload"));
}

}  // namespace

bool is_pod_sandbox(const nlohmann::json& config) {
  auto a = config.find("annotations");
  if (a == config.end() || !a->is_object()) return false;
  for (const char* key : {"io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType"}) {
    auto v = a->find(key);
    if (v != a->end() && *v == "sandbox") return true;
  }
  return false;
}

PolicyChoice choose_policy(const nlohmann::json& config, const std::string& policy_dir) {
  const nlohmann::json* inline_policy = annotation(config, kPolicyAnnotation);
  const nlohmann::json* file = annotation(config, kPolicyFileAnnotation);
  if (inline_policy && file)
    throw BadBundle(std::string("annotations ") + kPolicyAnnotation + " and " + kPolicyFileAnnotation +
                    ": give one of them");
  if (inline_policy) return {inline_policy->get<std::string>(), std::string("annotation ") + kPolicyAnnotation};
  if (file) {
    std::string path = file->get<std::string>();
    return {read_policy_file(path, policy_dir), path};
  }
  return {kDefaultContainerPolicy, "the default container policy"};
}

nlohmann::json wrap_config(nlohmann::json config, const HostFiles& host) {
  auto process = config.find("process");
  if (process == config.end() || !process->is_object()) throw BadBundle("config.json has no process to run under wwjail");
  auto args = process->find("args");
  if (args == process->end() || !args->is_array() || args->empty())
    throw BadBundle("config.json has no process.args to run under wwjail");
  for (const auto& a : *args)
    if (!a.is_string()) throw BadBundle("config.json: process.args holds something other than strings");
  unwrap(*args, *process);
  nlohmann::json wrapped =
      host.loader.empty() ? nlohmann::json::array({kWwjailInside}) : loader_prefix(*process, host);
  for (const char* a : {"--policy", kPolicyInside, "--"}) wrapped.push_back(a);
  for (auto& a : *args) wrapped.push_back(std::move(a));
  *args = std::move(wrapped);

  nlohmann::json mounts = nlohmann::json::array();
  auto old = config.find("mounts");
  if (old != config.end() && old->is_array())
    for (auto& m : *old)
      if (!under_inside_dir(m)) mounts.push_back(std::move(m));
  mounts.push_back(bind_ro(host.wwjail, kWwjailInside));
  if (!host.runner.empty()) mounts.push_back(bind_ro(host.runner, kRunnerInside));
  mounts.push_back(bind_ro(host.bundle_policy, kPolicyInside));
  if (!host.loader.empty()) append_loader_mounts(mounts, host);
  config["mounts"] = std::move(mounts);
  return config;
}

}  // namespace wwjail::runc
