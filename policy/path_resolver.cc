#include "policy/path_resolver.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string_view>

#include "capabilities/path_text.h"

namespace wwjail {
namespace {

// glibc gives up after this many links in one resolution (__eloop_threshold:
// the larger of SYMLOOP_MAX, unset on Linux, and 40).
constexpr int kMaxLinks = 40;

// What follows a component says it must be a directory: a trailing "/", or a
// "/." or "/.." still to come. realpath then checks the directory with
// faccessat instead of taking a failed readlink as the answer.
bool suffix_needs_dir(std::string_view rest) {
  size_t i = 0;
  while (i < rest.size() && rest[i] == '/') {
    while (i < rest.size() && rest[i] == '/') ++i;
    if (i == rest.size()) return true;
    if (rest[i++] != '.') return false;
    if (i == rest.size()) return true;
    if (rest[i] == '.' && (i + 1 == rest.size() || rest[i + 1] == '/')) return true;
  }
  return false;
}

// Drops the last component ("/" stays "/").
void pop_component(std::string& path) {
  size_t slash = path.rfind('/');
  path.resize(slash == 0 ? 1 : slash);
}

}  // namespace

bool PathResolver::read_link(const std::string& name, std::optional<std::string>& target) {
  if (auto known = links_.find(name); known != links_.end()) {
    target = known->second;
    return true;
  }
  ++readlinks_;
  std::string buf(PATH_MAX, '\0');
  ssize_t n;
  while ((n = ::readlink(name.c_str(), buf.data(), buf.size() - 1)) >= static_cast<ssize_t>(buf.size() - 1))
    buf.resize(buf.size() * 2);
  if (n < 0 && errno != EINVAL) return false;
  target = n < 0 ? std::nullopt : std::optional<std::string>(buf.substr(0, static_cast<size_t>(n)));
  if (!path_text::is_within(name, "/proc")) links_.emplace(name, target);
  return true;
}

std::optional<std::string> PathResolver::resolve(const std::string& path) {
  if (path.empty()) {
    errno = ENOENT;
    return std::nullopt;
  }
  std::string out = "/";
  if (path.front() != '/') {
    char* cwd = ::getcwd(nullptr, 0);
    if (!cwd) return std::nullopt;
    out = cwd;
    std::free(cwd);
  }
  std::string pending = path;  // what is still to resolve, from `pos`
  size_t pos = 0;
  int links = 0;
  while (true) {
    while (pos < pending.size() && pending[pos] == '/') ++pos;
    if (pos == pending.size()) break;
    size_t end = pending.find('/', pos);
    if (end == std::string::npos) end = pending.size();
    std::string_view name(pending.data() + pos, end - pos);
    if (name == "." || name == "..") {
      if (name == "..") pop_component(out);
      pos = end;
      continue;
    }
    if (out.back() != '/') out += '/';
    out.append(name);
    std::optional<std::string> target;
    if (!read_link(out, target)) {
      // A name that must be a directory is checked as one; any other failure
      // ends the resolution with readlink's errno.
      if (!suffix_needs_dir(std::string_view(pending).substr(end)) ||
          ::faccessat(AT_FDCWD, (out + "/").c_str(), F_OK, AT_EACCESS) != 0)
        return std::nullopt;
    } else if (!target) {
      if (suffix_needs_dir(std::string_view(pending).substr(end)) &&
          ::faccessat(AT_FDCWD, (out + "/").c_str(), F_OK, AT_EACCESS) != 0)
        return std::nullopt;
    } else {
      if (++links > kMaxLinks) {
        errno = ELOOP;
        return std::nullopt;
      }
      // The target replaces the name: resolved from the root when absolute,
      // else from the link's directory; the rest of the path follows it.
      if (target->front() == '/')
        out = "/";
      else
        pop_component(out);
      pending = *target + pending.substr(end);
      pos = 0;
      continue;
    }
    pos = end;
  }
  if (out.size() + 1 > PATH_MAX) {
    errno = ENAMETOOLONG;
    return std::nullopt;
  }
  return out;
}

}  // namespace wwjail
