#include "policy/kernel_mounts.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "capabilities/path_text.h"

namespace wwjail {
namespace {

// File systems that are the kernel's interfaces rather than storage.
bool kernel_fs(std::string_view type) {
  static const char* const kTypes[] = {"proc",     "sysfs",     "cgroup",   "cgroup2", "debugfs", "tracefs",
                                       "securityfs", "bpf",     "configfs", "pstore",  "efivarfs", "fusectl",
                                       "binfmt_misc", "selinuxfs", "devtmpfs"};
  for (const char* t : kTypes) {
    if (type == t) return true;
  }
  return false;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = field[i + k];
        ok = ok && c >= '0' && c <= '7';
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

struct Mount {
  std::string point, type;
};

std::vector<Mount> parse(std::string_view mountinfo) {
  std::vector<Mount> out;
  std::istringstream in{std::string(mountinfo)};
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    size_t sep = 0;
    while (sep < f.size() && f[sep] != "-") ++sep;
    if (f.size() < 5 || sep + 1 >= f.size()) continue;
    out.push_back({unescape(f[4]), f[sep + 1]});
  }
  return out;
}

bool host_kernel_location(const std::string& point) {
  return path_text::is_within(point, "/proc") || path_text::is_within(point, "/sys") ||
         path_text::is_within(point, "/dev");
}

}  // namespace

std::string kernel_mount_under_grants(const StorageCaps& caps, std::string_view mountinfo) {
  auto mounts = parse(mountinfo);
  for (const auto& g : caps.grants()) {
    if (!g.directory || g.link || g.audit_fallback) continue;
    bool writable = g.rights & kWrite;
    for (const auto& m : mounts) {
      if (!kernel_fs(m.type) || m.point == g.path || !path_text::is_within(m.point, g.path)) continue;
      if (!writable && host_kernel_location(m.point)) continue;
      return std::string(writable ? "the write grant on " : "the grant on ") + g.path + " (" + g.origin +
             ") holds a " + m.type + " file system at " + m.point +
             ", the kernel's own interface; grant that path itself if the guest must reach it";
    }
  }
  return {};
}

std::string kernel_mount_under_grants(const StorageCaps& caps) {
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  return kernel_mount_under_grants(caps, text.str());
}

}  // namespace wwjail
