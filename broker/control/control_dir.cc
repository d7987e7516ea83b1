#include "broker/control/control_dir.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "sys/sys_error.h"

namespace wwjail::control {

std::string control_dir() {
  if (const char* dir = std::getenv("WWJAIL_CONTROL_DIR"); dir && *dir) return dir;
  uid_t uid = ::geteuid();
  if (uid == 0) return "/run/wwjail";
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && runtime[0] == '/')
    return std::string(runtime) + "/wwjail";
  return "/tmp/wwjail-" + std::to_string(uid);
}

std::vector<std::string> control_dir_candidates() {
  std::vector<std::string> out{control_dir(), "/run/wwjail", "/tmp/wwjail-" + std::to_string(::geteuid())};
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && runtime[0] == '/')
    out.push_back(std::string(runtime) + "/wwjail");
  return out;
}

bool valid_jail_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '.' || name[0] == '-') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string socket_path(const std::string& dir, std::string_view name) {
  std::string path = dir + "/" + std::string(name) + ".sock";
  if (path.size() >= sizeof(sockaddr_un{}.sun_path))
    throw SetupError("control socket path " + path + " is longer than a socket address allows (" +
                     std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                     " bytes): set WWJAIL_CONTROL_DIR to a shorter directory");
  return path;
}

std::string trusted_dir_problem(const std::string& dir) {
  struct stat st{};
  if (::lstat(dir.c_str(), &st) != 0) return dir + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return dir + " is not a directory";
  if (st.st_uid != ::geteuid() && st.st_uid != 0) return dir + " belongs to uid " + std::to_string(st.st_uid);
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return dir + " is writable by its group or others";
  return "";
}

void make_control_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw SetupError("cannot make the control directory " + dir + ": " + std::strerror(errno));
  if (std::string why = trusted_dir_problem(dir); !why.empty())
    throw SetupError("the control directory cannot be trusted: " + why);
}

}  // namespace wwjail::control
