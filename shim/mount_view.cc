// Planning the guest's view (broker side, before fork). See mount_view.h.
#include "shim/mount_view.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "capabilities/path_text.h"

namespace wwjail {
namespace {

using Entry = MountViewPlan::Entry;

// The first reason `g` cannot be expressed by a view, or empty.
std::string inexpressible(const Grant& g) {
  if (g.audit_fallback) return "audit mode allows everything and logs it, which only the broker can do";
  if (g.list_only) return "the list-only grant on " + g.path + " (a view can show a directory only with what is below it)";
  if (g.path == "/") return "the grant on / (the view would be the host's tree)";
  if (path_text::is_within(g.path, "/proc"))
    return "the grant on " + g.path + " (the view's /proc holds only the guest's own processes)";
  return {};
}

bool inside_any(const std::string& path, const std::vector<std::string>& dirs) {
  return std::any_of(dirs.begin(), dirs.end(), [&](const std::string& d) { return path_text::is_within(path, d); });
}

// Where a link in `dir` whose text is `text` leads, lexically (one hop).
std::string link_destination(const std::string& dir, std::string_view text) {
  return path_text::normalize(text[0] == '/' ? std::string(text) : path_text::join(dir, text));
}

// The grant as an entry, or nullopt with `why_not` set.
// `old_root`: where the host's tree is while the view is built.
std::optional<Entry> entry_for(const Grant& g, const std::string& old_root, std::string& why_not) {
  Entry e;
  e.path = g.path;
  e.read_only = !(g.rights & kWrite);
  struct stat st{};
  if (::lstat(g.path.c_str(), &st) != 0) {
    why_not = "the grant on " + g.path + " vanished while the view was planned";
    return std::nullopt;
  }
  if (g.link) {
    if (!S_ISLNK(st.st_mode)) {
      why_not = "the link grant on " + g.path + " is no longer a symbolic link";
      return std::nullopt;
    }
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlink(g.path.c_str(), target.data(), target.size());
    if (n < 0 || static_cast<size_t>(n) >= target.size()) {
      why_not = "the link " + g.path + " changed while the view was planned";
      return std::nullopt;
    }
    target.resize(static_cast<size_t>(n));
    e.kind = Entry::kSymlink;
    e.source = std::move(target);
    return e;
  }
  bool is_dir = S_ISDIR(st.st_mode);
  if (is_dir != g.directory) {
    why_not = "the grant on " + g.path + (is_dir ? " names a directory as a file" : " names a file as a directory");
    return std::nullopt;
  }
  e.kind = is_dir ? Entry::kBindDir : Entry::kBindFile;
  e.source = old_root + g.path;
  return e;
}

// Empty directories of the skeleton for every ancestor of `path` that no
// bind holds and no earlier entry made.
void add_skeleton(const std::string& path, const std::vector<std::string>& bound_dirs, std::set<std::string>& made,
                  std::vector<Entry>& out) {
  std::vector<std::string> chain;
  for (std::string p = path_text::split_last(path).parent; p != "/"; p = path_text::split_last(p).parent)
    chain.push_back(p);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (inside_any(*it, bound_dirs) || !made.insert(*it).second) continue;
    out.push_back({Entry::kDir, true, *it, {}});
  }
}

// The deepest bound directory of `entries` that holds `path` (there must be one).
const Entry* innermost_bind(const std::string& path, const std::vector<Entry>& entries) {
  const Entry* found = nullptr;
  for (const auto& e : entries) {
    if (e.kind == Entry::kBindDir && path_text::is_within(path, e.path) &&
        (!found || e.path.size() > found->path.size()))
      found = &e;
  }
  return found;
}

// What the view holds so far, for following the host's links into it.
struct ViewIndex {
  std::vector<std::string> bound_dirs;
  std::set<std::string> present;  // skeleton directories, bound files, links
  std::map<std::string, std::string> links;  // the view's links, by path: their text

  bool holds_exactly(const std::string& path) const {
    return path == "/" || present.contains(path) || inside_any(path, bound_dirs);
  }
  // Whether `path` reaches something in the view, following the view's own
  // links on the way (lexically, a few hops).
  bool holds(std::string path) const {
    for (int hop = 0; hop < 8; ++hop) {
      if (holds_exactly(path) && !links.contains(path)) return true;
      bool followed = false;
      for (std::string p = path; p != "/"; p = path_text::split_last(p).parent) {
        auto it = links.find(p);
        if (it == links.end()) continue;
        path = path_text::normalize(link_destination(path_text::split_last(p).parent, it->second) +
                                    path.substr(p.size()));
        followed = true;
        break;
      }
      if (!followed) return false;
    }
    return false;
  }
};

// The canonical target of the link at `path`, or empty.
std::string resolved(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

// The symbolic links directly in host directory `dir` whose text names
// something in the view (lexically, one hop: one readlink per link).
std::vector<std::string> links_into(const std::string& dir, const ViewIndex& view) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type != DT_LNK) continue;
    char target[PATH_MAX];
    ssize_t n = ::readlinkat(::dirfd(d), e->d_name, target, sizeof target - 1);
    if (n <= 0) continue;
    std::string_view text(target, static_cast<size_t>(n));
    if (view.holds(link_destination(dir, text))) out.push_back(path_text::join(dir, e->d_name));
  }
  ::closedir(d);
  return out;
}

// Adds the link at `link` (and the directories above it) to the plan.
bool add_link(const std::string& link, ViewIndex& view, std::set<std::string>& made, std::vector<Entry>& out) {
  if (view.holds_exactly(link)) return false;
  char target[PATH_MAX];
  ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  if (n <= 0) return false;
  add_skeleton(link, view.bound_dirs, made, out);
  for (const auto& m : made) view.present.insert(m);
  out.push_back({Entry::kSymlink, true, link, std::string(target, static_cast<size_t>(n))});
  view.present.insert(link);
  view.links[link] = out.back().source;
  return true;
}

// The names programs reach their files by are often links outside every
// grant: merged /usr's /bin, /lib and /lib64, and /usr/lib64's loader link
// behind /lib64. A link in the root directory that leads into the view is
// recreated; so is one whose target is a directory holding links into the
// view (those links too). The mediated broker follows any link on the way
// to a grant; the view has these, which is what loading programs needs.
void add_system_links(ViewIndex& view, std::set<std::string>& made, std::vector<Entry>& out) {
  DIR* d = ::opendir("/");
  if (!d) return;
  std::vector<std::string> top;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type == DT_LNK) top.push_back(std::string("/") + e->d_name);
  }
  ::closedir(d);
  std::sort(top.begin(), top.end());
  for (const auto& link : top) {
    std::string target = resolved(link);
    if (target.empty()) continue;
    if (view.holds(target)) {
      add_link(link, view, made, out);
      continue;
    }
    auto inner = links_into(target, view);
    if (inner.empty()) continue;
    for (const auto& l : inner) add_link(l, view, made, out);
    add_link(link, view, made, out);
  }
}

// The sonames of a granted library beside it: the loader asks for
// libpcre2-8.so.0, a link to the granted libpcre2-8.so.0.11.2. The
// candidates are the file's name cut at each dot after ".so" (and ".so"
// itself), each looked up with one readlink: no directory scan, however
// large the library directory.
void add_soname_links(const std::vector<Entry>& binds, ViewIndex& view, std::set<std::string>& made,
                      std::vector<Entry>& out) {
  for (const auto& e : binds) {
    if (e.kind != Entry::kBindFile) continue;
    auto [dir, name] = path_text::split_last(e.path);
    size_t so = name.find(".so");
    if (so == std::string::npos || inside_any(e.path, view.bound_dirs)) continue;
    for (size_t cut = name.size() - 1; cut > so + 2; --cut) {
      if (name[cut] != '.') continue;
      std::string link = path_text::join(dir, name.substr(0, cut));
      char target[PATH_MAX];
      ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      std::string_view text(target, static_cast<size_t>(n));
      if (view.present.contains(link_destination(dir, text))) add_link(link, view, made, out);
    }
  }
}

// A granted /dev/ptmx (see mount_view.h): a devpts of the guest's own at
// /dev/pts, and /dev/ptmx a link to its ptmx.
void own_devpts_for_ptmx(ViewIndex& view, std::set<std::string>& made, std::vector<Entry>& entries) {
  auto ptmx = std::find_if(entries.begin(), entries.end(), [](const Entry& e) {
    return e.path == "/dev/ptmx" && e.kind == Entry::kBindFile && !e.read_only;
  });
  if (ptmx == entries.end() || view.holds("/dev/pts")) return;
  *ptmx = {Entry::kSymlink, true, "/dev/ptmx", "pts/ptmx"};
  add_skeleton("/dev/pts", view.bound_dirs, made, entries);
  entries.push_back({Entry::kDevpts, false, "/dev/pts", {}});
  view.bound_dirs.push_back("/dev/pts");
}

// The links every Linux /dev has, which shells and scripts name (process
// substitution's /dev/fd/N, /dev/stdin): into the view's /proc, the
// guest's own. Added where the view has a /dev of its own making.
void add_dev_fd_links(ViewIndex& view, std::set<std::string>& made, std::vector<Entry>& entries) {
  if (!made.contains("/dev") || inside_any("/dev", view.bound_dirs)) return;
  const std::pair<const char*, const char*> links[] = {
      {"/dev/fd", "/proc/self/fd"}, {"/dev/stdin", "/proc/self/fd/0"},
      {"/dev/stdout", "/proc/self/fd/1"}, {"/dev/stderr", "/proc/self/fd/2"}};
  for (auto [path, target] : links) {
    if (view.holds_exactly(path)) continue;
    entries.push_back({Entry::kSymlink, true, path, target});
    view.present.insert(path);
    view.links[path] = target;
  }
}

}  // namespace

const char* kind_name(MountViewPlan::Entry::Kind kind) {
  switch (kind) {
    case Entry::kDir: return "directory";
    case Entry::kBindDir: return "bound directory";
    case Entry::kBindFile: return "bound file";
    case Entry::kSymlink: return "link";
    case Entry::kDevpts: return "terminals of the guest's own";
  }
  return "?";
}

std::optional<MountViewPlan> plan_mount_view(const StorageCaps& caps, const std::string& cwd, std::string& why_not) {
  MountViewPlan plan;
  struct stat st{};
  if (::stat(plan.stage.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    why_not = "there is no " + plan.stage + " to build the view on";
    return std::nullopt;
  }
  plan.old_root = plan.stage + plan.old_root_in_view;
  std::vector<const Grant*> grants;
  for (const auto& g : caps.grants()) grants.push_back(&g);
  std::sort(grants.begin(), grants.end(), [](const Grant* a, const Grant* b) { return a->path < b->path; });

  ViewIndex view;  // binds so far: what lies below them exists already
  std::vector<std::string>& bound_dirs = view.bound_dirs;
  std::set<std::string> made;  // the skeleton's directories
  for (const Grant* g : grants) {
    if (std::string why = inexpressible(*g); !why.empty()) {
      why_not = why;
      return std::nullopt;
    }
    auto e = entry_for(*g, plan.old_root_in_view, why_not);
    if (!e) return std::nullopt;
    if (inside_any(e->path, bound_dirs)) {
      // Within a bound directory the entry already exists: a link is the
      // same link, a bind goes on top of the real file or directory only
      // to make it writable. Grants only add: a read grant inside a write
      // grant keeps the write, so no read-only bind may cover it.
      if (e->kind == Entry::kSymlink) continue;
      if (e->read_only || !innermost_bind(e->path, plan.entries)->read_only) continue;
    } else {
      add_skeleton(e->path, bound_dirs, made, plan.entries);
    }
    if (e->kind == Entry::kBindDir) bound_dirs.push_back(e->path);
    view.present.insert(e->path);
    if (e->kind == Entry::kSymlink) view.links[e->path] = e->source;
    plan.entries.push_back(std::move(*e));
  }
  for (const auto& m : made) view.present.insert(m);
  std::vector<Entry> binds = plan.entries;
  add_soname_links(binds, view, made, plan.entries);
  add_system_links(view, made, plan.entries);
  own_devpts_for_ptmx(view, made, plan.entries);
  add_dev_fd_links(view, made, plan.entries);
  // The start directory exists in the view, empty if nothing grants it.
  std::string start = cwd.empty() || cwd[0] != '/' ? std::string("/") : path_text::normalize(cwd);
  if (start != "/" && !inside_any(start, bound_dirs) && !made.contains(start)) {
    add_skeleton(start + "/x", bound_dirs, made, plan.entries);
  }
  plan.cwd = start;
  return plan;
}

namespace {

// The first line of a sysctl file, or empty when it does not exist.
std::string sysctl(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

std::optional<ViewNamespaces> view_namespaces(std::string& why_not) {
  ViewNamespaces ns;
  if (::geteuid() == 0) return ns;  // the caller checks it holds CAP_SYS_ADMIN
  if (sysctl("/proc/sys/kernel/unprivileged_userns_clone") == "0") {
    why_not = "unprivileged user namespaces are off (kernel.unprivileged_userns_clone = 0)";
    return std::nullopt;
  }
  if (sysctl("/proc/sys/user/max_user_namespaces") == "0") {
    why_not = "user namespaces are off (user.max_user_namespaces = 0)";
    return std::nullopt;
  }
  if (sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1") {
    why_not = "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)";
    return std::nullopt;
  }
  ns.user = true;
  ns.uid_map = std::to_string(::geteuid()) + " " + std::to_string(::geteuid()) + " 1\n";
  ns.gid_map = std::to_string(::getegid()) + " " + std::to_string(::getegid()) + " 1\n";
  return ns;
}

}  // namespace wwjail
