#include "wasm/compile/compile_cache.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "sys/sys_error.h"

namespace wwjail {
namespace {

const char* const kChooseAnother = "; choose another with --cache DIR";

std::string identity_of(const struct stat& st) {
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

// The cache's path as components, symlinks the user wrote resolved once
// (realpath of the part that exists): the walk below then follows none.
std::vector<std::string> canonical_components(const std::string& cache_dir) {
  std::filesystem::path p = std::filesystem::absolute(cache_dir).lexically_normal();
  std::filesystem::path existing = p, rest;
  while (existing.has_relative_path() && (existing.filename().empty() || ::access(existing.c_str(), F_OK) != 0)) {
    if (!existing.filename().empty()) rest = existing.filename() / rest;
    existing = existing.parent_path();
  }
  char real[PATH_MAX];
  if (!::realpath(existing.c_str(), real))
    throw SetupError("the wasm cache " + existing.string() + ": " + std::strerror(errno) + kChooseAnother);
  std::vector<std::string> out;
  for (const auto& part : std::filesystem::path(real) / rest) {
    std::string s = part.string();
    if (!s.empty() && s != "/" && s != ".") out.push_back(s);
  }
  return out;
}

// A directory above the cache: only root or the user could replace what is
// below it.
void check_ancestor(const struct stat& st, const std::string& path) {
  bool owner_ok = st.st_uid == 0 || st.st_uid == ::geteuid();
  bool others_write = st.st_mode & (S_IWGRP | S_IWOTH);
  if (!owner_ok || (others_write && !(st.st_mode & S_ISVTX)))
    throw SetupError("the wasm cache is beneath " + path +
                     ", which someone other than you and root may write (they could replace the cache)" +
                     kChooseAnother);
}

void check_private(const struct stat& st, const std::string& path, bool directory) {
  bool right_type = directory ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
  if (!right_type || st.st_uid != ::geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
    throw SetupError("the wasm cache " + path + " is not private (it must be a " +
                     (directory ? "directory" : "file") + " owned by you that no one else may write)" +
                     kChooseAnother);
}

}  // namespace

CacheDir open_cache_dir(const std::string& cache_dir) {
  std::vector<std::string> parts = canonical_components(cache_dir);
  if (parts.empty()) throw SetupError(std::string("the wasm cache cannot be /") + kChooseAnother);
  const size_t private_from = parts.size() - 1;  // the cache itself, then wasm/
  parts.push_back("wasm");
  UniqueFd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::string path;
  struct stat st{};
  if (!dir.valid() || ::fstat(dir.get(), &st) != 0) throw SetupError(std::string("/: ") + std::strerror(errno));
  check_ancestor(st, "/");
  for (size_t i = 0; i < parts.size(); ++i) {
    path += "/" + parts[i];
    const int flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = ::openat(dir.get(), parts[i].c_str(), flags);
    if (fd < 0 && errno == ENOENT && (::mkdirat(dir.get(), parts[i].c_str(), 0700) == 0 || errno == EEXIST))
      fd = ::openat(dir.get(), parts[i].c_str(), flags);
    if (fd < 0) {
      int err = errno;
      throw SetupError("the wasm cache " + path + ": " +
                       (err == ENOTDIR || err == ELOOP ? std::string("not a directory (symbolic links are not followed here)")
                                                        : std::strerror(err)) +
                       kChooseAnother);
    }
    dir.reset(fd);
    if (::fstat(dir.get(), &st) != 0) throw SetupError("the wasm cache " + path + ": " + std::strerror(errno));
    if (i < private_from) check_ancestor(st, path);
    else check_private(st, path, true);
  }
  return {std::move(dir), path};
}

std::optional<CheckedArtifact> open_cached_artifact(const CacheDir& dir, const std::string& name) {
  std::string path = dir.path + "/" + name;
  UniqueFd fd(::openat(dir.fd.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid() && errno == ENOENT) return std::nullopt;
  struct stat st{};
  if (!fd.valid()) {
    if (errno == ELOOP) check_private(st, path, false);  // a symlink: not private
    throw SetupError("the wasm cache " + path + ": " + std::strerror(errno));
  }
  if (::fstat(fd.get(), &st) != 0) throw SetupError("the wasm cache " + path + ": " + std::strerror(errno));
  check_private(st, path, false);
  if (!is_wasm_artifact_fd(fd.get())) return std::nullopt;
  return CheckedArtifact{path, identity_of(st)};
}

CheckedArtifact check_artifact(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  struct stat st{};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) throw SetupError(path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode) || !is_wasm_artifact_fd(fd.get()))
    throw SetupError(path + " is not a compiled WebAssembly module");
  return {path, identity_of(st)};
}

bool is_wasm_artifact_fd(int fd) {
  auto read_at = [fd](void* buf, size_t len, uint64_t off) {
    return ::pread(fd, buf, len, static_cast<off_t>(off)) == static_cast<ssize_t>(len);
  };
  Elf64_Ehdr eh{};
  if (!read_at(&eh, sizeof eh, 0)) return false;
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_DYN ||
      eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shstrndx >= eh.e_shnum || eh.e_shnum > 4096)
    return false;
  std::vector<Elf64_Shdr> sections(eh.e_shnum);
  if (!read_at(sections.data(), sections.size() * sizeof(Elf64_Shdr), eh.e_shoff)) return false;
  const Elf64_Shdr& names = sections[eh.e_shstrndx];
  if (names.sh_size > (1u << 20)) return false;
  std::string strtab(names.sh_size, '\0');
  if (!read_at(strtab.data(), strtab.size(), names.sh_offset)) return false;
  for (const auto& s : sections) {
    if (s.sh_name < strtab.size() && std::strcmp(strtab.c_str() + s.sh_name, ".wwjail_wasm") == 0) return true;
  }
  return false;
}

}  // namespace wwjail
