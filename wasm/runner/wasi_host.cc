#include "wasm/runner/wasi_host.h"

#include <fcntl.h>

#include <cstring>
#include <stdexcept>

#include "wasm/runner/wasi_native.h"

namespace wwjail {

using namespace wasi;

WasiHost::WasiHost(const WasiConfig& config) : args_(config.args), env_(config.env) {
  for (int stdio = 0; stdio < 3; ++stdio) fds_.push_back(make_fd(UniqueFd(stdio)));
  for (const auto& p : config.preopens) {
    UniqueFd fd(::open(p.host.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) throw std::runtime_error("preopen " + p.host + ": " + std::strerror(errno));
    fds_.push_back(make_fd(std::move(fd), true, p.guest));
  }
  first_socket_ = static_cast<uint32_t>(fds_.size());
  for (int s : config.sockets) fds_.push_back(make_fd(UniqueFd(s)));
}

WasiHost::Fd WasiHost::make_fd(UniqueFd host, bool preopen, std::string name) {
  struct stat st{};
  bool directory = ::fstat(host.get(), &st) == 0 && S_ISDIR(st.st_mode);
  return Fd{std::move(host), preopen, std::move(name), directory, nullptr};
}

WasiHost::Fd* WasiHost::lookup(uint32_t fd) {
  if (fd >= fds_.size() || !fds_[fd]) return nullptr;
  return &*fds_[fd];
}

int WasiHost::host_fd(uint32_t fd) {
  Fd* f = lookup(fd);
  return f ? f->host.get() : -1;
}

uint32_t WasiHost::add_fd(UniqueFd host) {
  for (uint32_t i = 3; i < fds_.size(); ++i) {
    if (!fds_[i]) {
      fds_[i] = make_fd(std::move(host));
      return i;
    }
  }
  fds_.push_back(make_fd(std::move(host)));
  return static_cast<uint32_t>(fds_.size() - 1);
}

Errno WasiHost::parent_of(uint32_t fd, const std::string& path, UniqueFd& parent, std::string& name) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (path.empty()) return kNoent;
  if (path.front() == '/') return kNotCapable;
  std::string trimmed = path;
  bool trailing = trimmed.size() > 1 && trimmed.back() == '/';
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  auto slash = trimmed.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : trimmed.substr(0, slash + 1);
  name = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
  if (name == "..") return kNotCapable;
  parent.reset(openat2_beneath(f->host.get(), dir, O_PATH | O_DIRECTORY, 0));
  if (!parent.valid()) return last_error();
  // "f/" wants a directory: the kernel says so when it sees the slash.
  if (trailing && name != ".") name += '/';
  return kSuccess;
}

Errno WasiHost::entry_at(uint32_t fd, uint32_t path, uint32_t len, UniqueFd& parent, std::string& name) {
  std::string p;
  if (Errno e = mem_.path_arg(path, len, p)) return e;
  return parent_of(fd, p, parent, name);
}

Errno WasiHost::open_path(uint32_t fd, const std::string& path, bool follow, UniqueFd& out) {
  Fd* f = lookup(fd);
  if (!f) return kBadf;
  if (path.empty()) return kNoent;
  if (path.front() == '/') return kNotCapable;
  out.reset(openat2_beneath(f->host.get(), path, O_PATH | (follow ? 0 : O_NOFOLLOW), 0));
  return out.valid() ? kSuccess : last_error();
}

Errno WasiHost::write_filestat(uint32_t out, const struct stat& st) {
  if (!mem_.in_bounds(out, layout::kFilestat)) return kFault;
  std::memset(mem_.at(out), 0, layout::kFilestat);
  mem_.store<uint64_t>(out + 0, st.st_dev);
  mem_.store<uint64_t>(out + 8, st.st_ino);
  mem_.store<uint8_t>(out + 16, filetype_of(st));
  mem_.store<uint64_t>(out + 24, st.st_nlink);
  mem_.store<uint64_t>(out + 32, static_cast<uint64_t>(st.st_size));
  mem_.store<uint64_t>(out + 40, nanos(st.st_atim));
  mem_.store<uint64_t>(out + 48, nanos(st.st_mtim));
  mem_.store<uint64_t>(out + 56, nanos(st.st_ctim));
  return kSuccess;
}

}  // namespace wwjail
