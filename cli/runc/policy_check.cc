#include "cli/runc/policy_check.h"

#include <elf.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "capabilities/storage_caps.h"
#include "cli/runc/bundle_config.h"
#include "policy/policy_file.h"
#include "policy/run_config.h"
#include "sys/self_fd.h"

namespace wwjail::runc {
namespace {

// The child's verdicts, besides 0 (valid).
constexpr int kInvalid = 1;
constexpr int kCannotEnter = 3;

// A container id seen from the host, through linux.uidMappings/gidMappings
// (none: the same id).
unsigned host_id(const nlohmann::json& config, const char* key, unsigned id) {
  auto linux_it = config.find("linux");
  if (linux_it == config.end() || !linux_it->contains(key)) return id;
  for (const auto& m : (*linux_it)[key]) {
    unsigned inside = m.value("containerID", 0u), host = m.value("hostID", 0u), size = m.value("size", 0u);
    if (id >= inside && id - inside < size) return host + (id - inside);
  }
  throw BadBundle(std::string("config.json: no ") + key + " entry maps id " + std::to_string(id));
}

bool is_bind(const nlohmann::json& m) {
  if (m.value("type", "") == "bind") return true;
  for (const auto& o : m.value("options", nlohmann::json::array()))
    if (o == "bind" || o == "rbind") return true;
  return false;
}

void write_all(int fd, const std::string& s) {
  for (size_t done = 0; done < s.size();) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += n;
  }
}

// The mount points the binds need, made (as runc makes them at create)
// where the image lacks them and removed after the check, deepest first.
// Each component is opened beneath the root without following symlinks,
// so a link in the image never leads a mkdir out of it; a bind whose path
// crosses one is left out of the view.
class MountPoints {
 public:
  // create: make what is missing (in wwjail-runc); else only find (in the
  // child, whose descriptors must belong to its own mount namespace).
  MountPoints(const std::string& rootfs, bool create)
      : root_(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), create_(create) {
    if (root_ < 0) throw BadBundle("root " + rootfs + ": " + std::strerror(errno));
  }
  ~MountPoints() {
    for (auto it = made_.rbegin(); it != made_.rend(); ++it)
      ::unlinkat(it->parent, it->name.c_str(), it->dir ? AT_REMOVEDIR : 0);
    for (int fd : fds_) ::close(fd);
  }
  MountPoints(const MountPoints&) = delete;
  MountPoints& operator=(const MountPoints&) = delete;

  // An O_PATH descriptor of the mount point, or -1.
  int target(const std::string& destination, bool file) {
    int at = root_;
    size_t start = 1;
    while (start < destination.size()) {
      size_t end = destination.find('/', start);
      if (end == std::string::npos) end = destination.size();
      std::string name = destination.substr(start, end - start);
      start = end + 1;
      if (name.empty() || name == ".") continue;
      if (name == "..") return -1;
      bool last = start >= destination.size();
      at = step(at, name, last && file);
      if (at < 0) return -1;
    }
    return at;
  }

 private:
  struct Made {
    int parent;
    std::string name;
    bool dir;
  };
  int step(int at, const std::string& name, bool file) {
    int fd = ::openat(at, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create_) {
      int made = file ? ::openat(at, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)
                      : ::mkdirat(at, name.c_str(), 0755);
      if (made < 0) return -1;
      if (file) ::close(made);
      made_.push_back({at, name, !file});
      fd = ::openat(at, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) return -1;
    struct stat st{};
    if (::fstat(fd, &st) != 0 || S_ISLNK(st.st_mode)) {
      ::close(fd);
      return -1;
    }
    fds_.push_back(fd);
    return fd;
  }
  int root_;
  bool create_;
  std::vector<Made> made_;
  std::vector<int> fds_;
};

// Makes the mount points the binds need (in wwjail-runc, before the fork).
void make_mount_points(const CheckView& v, MountPoints& points) {
  for (const auto& b : v.binds) {
    struct stat st{};
    if (::stat(b.source.c_str(), &st) == 0) points.target(b.destination, !S_ISDIR(st.st_mode));
  }
}

// The container's view: the image with the config's binds on top. Bind
// targets are found again after unshare: a mount must go on a mount of the
// caller's own namespace.
bool enter_view(const CheckView& v) {
  if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
  MountPoints points(v.rootfs, false);
  for (const auto& b : v.binds) {
    struct stat st{};
    if (::stat(b.source.c_str(), &st) != 0) continue;  // runc would fail the create
    int t = points.target(b.destination, !S_ISDIR(st.st_mode));
    if (t < 0) continue;
    std::string target = self_fd_path(t);
    if (::mount(b.source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) return false;
  }
  if (::chroot(v.rootfs.c_str()) != 0 || ::chdir("/") != 0) return false;
  if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(v.gid) != 0 || ::setuid(v.uid) != 0)) return false;
  return true;
}

// In the child (wwjail-runc has one thread, so the C++ runtime is usable).
[[noreturn]] void check_in_child(const std::string& text, const std::string& name, const CheckView& v, int out) {
  if (!enter_view(v)) {
    write_all(out, std::string("cannot enter the container's file system to check the policy: ") + std::strerror(errno));
    ::_exit(kCannotEnter);
  }
  if (!v.wwjail_interpreter.empty() && ::access(v.wwjail_interpreter.c_str(), X_OK) != 0) {
    write_all(out, "the image has no " + v.wwjail_interpreter + ", the loader the host's wwjail needs: wwjail-runc "
                   "mounts wwjail, not its loader and libraries (see wwjail-runc(1))");
    ::_exit(kInvalid);
  }
  try {
    RunConfig config;
    load_policy_text(text, name, kInsideDir, config);
    StorageCaps storage;
    std::vector<NetEndpoint> listen;
    build_net_caps(config, storage, listen);
  } catch (const std::exception& e) {
    write_all(out, e.what());
    ::_exit(kInvalid);
  }
  ::_exit(0);
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, n);
  }
  return out;
}

}  // namespace

std::string elf_interpreter(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw BadBundle(path + ": " + std::strerror(errno));
  Elf64_Ehdr eh{};
  std::string interp;
  bool ok = ::pread(fd, &eh, sizeof eh, 0) == sizeof eh && std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
            eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr);
  for (int i = 0; ok && i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    ok = ::pread(fd, &ph, sizeof ph, eh.e_phoff + i * sizeof ph) == sizeof ph;
    if (!ok || ph.p_type != PT_INTERP) continue;
    ok = ph.p_filesz > 1 && ph.p_filesz < 4096;
    if (ok) interp.resize(ph.p_filesz);
    ok = ok && ::pread(fd, interp.data(), interp.size(), ph.p_offset) == static_cast<ssize_t>(interp.size());
    interp.resize(interp.find('\0') == std::string::npos ? interp.size() : interp.find('\0'));
    break;
  }
  ::close(fd);
  if (!ok) throw BadBundle(path + ": not a 64-bit ELF program wwjail-runc can read");
  return interp;
}

CheckView check_view(const nlohmann::json& config, const std::string& bundle) {
  CheckView v;
  auto root = config.find("root");
  if (root == config.end() || !root->contains("path") || !(*root)["path"].is_string())
    throw BadBundle("config.json has no root.path");
  std::string path = (*root)["path"];
  v.rootfs = path.starts_with("/") ? path : bundle + "/" + path;
  for (const auto& m : config.value("mounts", nlohmann::json::array()))
    if (m.is_object() && is_bind(m) && m.value("source", "").starts_with("/") &&
        m.value("destination", "").starts_with("/"))
      v.binds.push_back({m["source"], m["destination"]});
  const auto user = config.value("process", nlohmann::json::object()).value("user", nlohmann::json::object());
  v.uid = host_id(config, "uidMappings", user.value("uid", 0u));
  v.gid = host_id(config, "gidMappings", user.value("gid", 0u));
  return v;
}

std::optional<std::string> check_policy(const std::string& text, const std::string& name, const CheckView& view) {
  MountPoints points(view.rootfs, true);  // removes what it made when the check is over
  make_mount_points(view, points);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    check_in_child(text, name, view, fds[1]);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  std::string said = read_all(fds[0]);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  if (WIFEXITED(status) && WEXITSTATUS(status) == kInvalid) return said.substr(0, said.find('\n'));
  throw std::runtime_error(said.empty() ? "the policy check failed" : said);
}

}  // namespace wwjail::runc
