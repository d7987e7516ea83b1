#include "policy/run_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "policy/program_deps.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

bool canonical(const std::string& path, std::string& out) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return false;
  out = buf;
  return true;
}

void add_path(StorageCaps& caps, const std::string& path, uint8_t rights, const std::string& origin,
              bool required, bool interpreter_only = false) {
  std::string real;
  struct stat st{};
  if (!canonical(path, real) || ::stat(real.c_str(), &st) != 0) {
    if (required) throw SetupError("grant path " + path + " (" + origin + "): " + std::strerror(errno));
    return;
  }
  caps.add(Grant{real, rights, S_ISDIR(st.st_mode), origin, interpreter_only});
}

}  // namespace

ProgramLookup find_program(const std::string& name) {
  ProgramLookup r;
  auto check = [&](const std::string& candidate) -> bool {
    struct stat st{};
    if (::stat(candidate.c_str(), &st) != 0) return false;
    if (S_ISDIR(st.st_mode) || ::access(candidate.c_str(), X_OK) != 0) {
      r.exit_status = exit_code::kNotExecutable;
      r.error = "cannot execute " + name + ": " + (S_ISDIR(st.st_mode) ? "Is a directory" : std::strerror(EACCES));
      return false;
    }
    canonical(candidate, r.path);
    r.exit_status = 0;
    r.error.clear();
    return true;
  };
  if (name.empty()) {
    r.exit_status = exit_code::kNotFound;
    r.error = "no program given";
    return r;
  }
  if (name.find('/') != std::string::npos) {
    if (!check(name) && r.exit_status == 0) {
      r.exit_status = exit_code::kNotFound;
      r.error = "program not found: " + name;
    }
    return r;
  }
  const char* env = std::getenv("PATH");
  std::stringstream dirs(env ? env : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (check((dir.empty() ? "." : dir) + "/" + name)) return r;
  }
  if (r.exit_status == 0) {
    r.exit_status = exit_code::kNotFound;
    r.error = "program not found in PATH: " + name;
  }
  return r;
}

StorageCaps build_storage_caps(const RunConfig& config, const std::string& program, const std::string& tmpdir,
                               spdlog::logger& log) {
  StorageCaps caps;
  for (const auto& g : config.grants) add_path(caps, g.path, g.rights, g.origin, true);

  add_path(caps, program, kExec, "the program", true);
  ProgramDeps deps = find_program_deps(program);
  for (const auto& interp : deps.interpreters) {
    // A "#!" interpreter is exec'd by the kernel on the script's behalf; an
    // ELF interpreter (ld.so) is executable only through granted programs.
    bool elf_loader = interp.find("/ld-linux") != std::string::npos || interp.find("/ld.so") != std::string::npos ||
                      interp.find("/ld64.so") != std::string::npos;
    add_path(caps, interp, kExec, "interpreter of " + program, false, elf_loader);
    log.debug("granted exec on interpreter {}", interp);
  }
  for (const auto& lib : deps.libraries) add_path(caps, lib, kRead, "library of " + program, false);
  log.debug("granted read on {} libraries of {}", deps.libraries.size(), program);
  add_path(caps, "/etc/ld.so.cache", kRead, "dynamic loader cache", false);

  for (const char* dev : {"/dev/null", "/dev/zero"}) add_path(caps, dev, kRead | kWrite, "default device", false);
  for (const char* dev : {"/dev/urandom", "/dev/random"}) add_path(caps, dev, kRead, "default device", false);
  add_path(caps, tmpdir, kRead | kWrite, "private temp dir", true);
  return caps;
}

}  // namespace wwjail
