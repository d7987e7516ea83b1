#include "policy/policy_learner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "capabilities/net_caps.h"
#include "capabilities/path_text.h"
#include "policy/policy_file.h"
#include "policy/run_config.h"
#include "sys/atomic_file.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

constexpr uint8_t bit(Need n) { return static_cast<uint8_t>(1u << static_cast<unsigned>(n)); }
constexpr uint8_t kReadish = bit(Need::kStat) | bit(Need::kRead);
constexpr size_t kFoldThreshold = 3;

// Directories files are never folded into: granting all of them would
// reach far beyond what the program read.
bool never_fold_into(const std::string& dir) {
  if (dir == "/" || too_broad_to_write(dir)) return true;
  return std::count(dir.begin(), dir.end(), '/') < 2;  // "/srv", "/opt", ...
}

// The length of the UTF-8 sequence at s[i], or 0 when the bytes there are
// not one (truncated, overlong, a UTF-16 surrogate, above U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i, char32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  size_t len;
  char32_t min;
  if (b < 0x80) {
    cp = b;
    return 1;
  } else if ((b & 0xe0) == 0xc0) {
    len = 2, min = 0x80, cp = b & 0x1f;
  } else if ((b & 0xf0) == 0xe0) {
    len = 3, min = 0x800, cp = b & 0x0f;
  } else if ((b & 0xf8) == 0xf0) {
    len = 4, min = 0x10000, cp = b & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

// Code points that move a line or a terminal's reading order without being
// C0 controls: C1 controls, the line and paragraph separators, the
// bidirectional embeddings, overrides and isolates.
bool invisible_control(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f || cp == 0x061c;
}

void append_hex(std::string& out, unsigned c, const char* prefix, int width) {
  char buf[12];
  std::snprintf(buf, sizeof buf, "%s%0*x", prefix, width, c);
  out += buf;
}

// glob(3) reads a backslash as quoting the next character.
std::string glob_quoted(const std::string& path) {
  if (path.find_first_of("*?[") == std::string::npos) return path;  // the reader globs only these
  std::string out;
  for (char c : path) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// The TOML string naming `path` exactly in a storage list ("?" first for an
// absent path), or why it cannot be written.
struct PathEntry {
  std::optional<std::string> toml;
  const char* why = nullptr;
};
PathEntry path_entry(const std::string& item) {
  bool absent = item.starts_with("?");
  std::string path = absent ? item.substr(1) : item;
  if (path.find("::") != std::string::npos) return {std::nullopt, "it holds \"::\", read as HOST::GUEST"};
  if (absent && path.find_first_of("*?[") != std::string::npos)
    return {std::nullopt, "absent, and its glob characters could match other paths"};
  auto toml = toml_string((absent ? "?" : "") + glob_quoted(path));
  if (!toml) return {std::nullopt, "not UTF-8, which TOML cannot hold"};
  return {toml, nullptr};
}

struct GrantSet {
  std::vector<std::string> dirs;  // subtree grants
  std::set<std::string> files;

  bool covers(const std::string& path) const {
    if (files.count(path)) return true;
    for (const auto& d : dirs) {
      if (path_text::is_within(path, d)) return true;
    }
    return false;
  }
};

bool exists(const std::string& path, struct stat& st) { return ::lstat(path.c_str(), &st) == 0; }

bool is_proc_pid(const std::string& path) {
  if (!path.starts_with("/proc/")) return false;
  size_t i = 6;
  return i < path.size() && path[i] >= '0' && path[i] <= '9';
}

}  // namespace

void PolicyLearner::storage(std::string_view path, Need need) {
  std::lock_guard lock(mu_);
  paths_[std::string(path)] |= bit(need);
}

void PolicyLearner::network(bool bind, std::string_view spec) {
  std::lock_guard lock(mu_);
  (bind ? binds_ : connects_).insert(std::string(spec));
}

void PolicyLearner::set_tmpdir(std::string_view path) {
  std::lock_guard lock(mu_);
  tmpdir_ = path;
}

LearnedPolicy PolicyLearner::render() const {
  std::lock_guard lock(mu_);
  LearnedPolicy out;
  auto in_tmpdir = [&](const std::string& p) { return !tmpdir_.empty() && path_text::is_within(p, tmpdir_); };

  // 1. Base profiles, most specific first.
  struct Profile {
    const char* name;
    RunConfig config;
  };
  std::vector<Profile> profiles;
  for (const char* name : {"python3", "tls-client", "dynamic-elf"}) profiles.push_back({name, load_base_profile(name)});
  const RunConfig& elf = profiles.back().config;
  auto profile_covers = [](const RunConfig& c, const std::string& path) {
    for (const auto& g : c.grants) {
      if (path_text::is_within(path, g.path)) return true;
    }
    return std::find(c.absent_paths.begin(), c.absent_paths.end(), path) != c.absent_paths.end();
  };
  std::vector<std::string> includes;
  std::vector<const RunConfig*> included;
  for (const auto& p : profiles) {
    bool specific_hit = false;
    for (const auto& [path, needs] : paths_) {
      if ((needs & ~kReadish) || in_tmpdir(path)) continue;
      bool hit = profile_covers(p.config, path) && (&p.config == &elf || !profile_covers(elf, path));
      if (hit) {
        specific_hit = true;
        break;
      }
    }
    if (!specific_hit) continue;
    // A profile that includes dynamic-elf makes including it again moot.
    if (&p.config == &elf && !included.empty()) {
      included.push_back(&p.config);
      continue;
    }
    includes.push_back(std::string("base:") + p.name);
    included.push_back(&p.config);
  }
  auto covered_by_includes = [&](const std::string& path) {
    for (const auto* c : included) {
      if (profile_covers(*c, path)) return true;
    }
    return false;
  };

  // 2-3. Writes and execs.
  GrantSet write, exec;
  std::set<std::string> write_notes;
  std::vector<std::string> proc_paths;
  for (const auto& [path, needs] : paths_) {
    if (in_tmpdir(path)) continue;
    if (is_proc_pid(path)) {
      proc_paths.push_back(path);
      continue;
    }
    if (needs & (bit(Need::kCreate) | bit(Need::kRemove))) {
      std::string dir = path_text::split_last(path).parent;
      if (!in_tmpdir(dir) && dir != tmpdir_) write.files.insert(dir);  // a directory grant; folded below
    }
    if (needs & bit(Need::kWrite)) {
      struct stat st;
      if (exists(path, st)) write.files.insert(path);
    }
    if (needs & bit(Need::kExec)) exec.files.insert(path);
  }
  // A write grant on a directory covers everything below it.
  for (const auto& w : write.files) {
    struct stat st;
    if (exists(w, st) && S_ISDIR(st.st_mode)) write.dirs.push_back(w);
  }
  {
    std::set<std::string> kept;
    for (const auto& w : write.files) {
      bool inside = false;
      for (const auto& d : write.dirs) inside = inside || (w != d && path_text::is_within(w, d));
      if (!inside) kept.insert(w);
    }
    write.files = std::move(kept);
    std::erase_if(write.dirs, [&](const std::string& d) { return !write.files.count(d); });
  }

  // 4-5. Reads.
  GrantSet read;
  std::set<std::string> optional;
  std::map<std::string, std::vector<std::string>> files_by_dir;
  // Directories opened (listed) or looked at: a listing grant, never the
  // subtree, unless files inside fold into it.
  std::vector<std::string> looked_at_dirs;
  for (const auto& [path, needs] : paths_) {
    if (in_tmpdir(path) || is_proc_pid(path) || path == tmpdir_) continue;
    if (write.covers(path) || exec.covers(path)) continue;
    if (!(needs & kReadish) && !(needs & bit(Need::kWrite))) continue;
    struct stat st;
    if (!exists(path, st)) {
      if (!covered_by_includes(path)) optional.insert(path);
      continue;
    }
    if (covered_by_includes(path)) continue;
    if (S_ISDIR(st.st_mode)) {
      looked_at_dirs.push_back(path);
      continue;
    }
    files_by_dir[path_text::split_last(path).parent].push_back(path);
  }
  for (auto& [dir, files] : files_by_dir) {
    if (files.size() >= kFoldThreshold && !never_fold_into(dir)) {
      read.dirs.push_back(dir);
    } else {
      for (auto& f : files) read.files.insert(f);
    }
  }
  // A directory only looked at needs a grant only when no other grant lies
  // below it (the ancestors of grants may always be looked at).
  auto below_some_grant = [&](const std::string& dir) {
    for (const GrantSet* g : {&read, &write, &exec}) {
      for (const auto& d : g->dirs) {
        if (path_text::is_within(d, dir)) return true;
      }
      for (const auto& f : g->files) {
        if (path_text::is_within(f, dir)) return true;
      }
    }
    for (const auto* c : included) {
      for (const auto& g : c->grants) {
        if (path_text::is_within(g.path, dir)) return true;
      }
    }
    return false;
  };
  std::vector<std::string> listed;
  for (const auto& d : looked_at_dirs) {
    const uint8_t needs = paths_.at(d);
    bool covered = false;
    for (const auto& r : read.dirs) covered = covered || path_text::is_within(d, r);
    if (covered || write.covers(d)) continue;
    // Only looked at (stat): an ancestor of another grant needs nothing.
    if (!(needs & bit(Need::kRead)) && below_some_grant(d)) continue;
    listed.push_back(d);
  }
  // Drop what a directory grant already covers.
  std::sort(read.dirs.begin(), read.dirs.end());
  read.dirs.erase(std::unique(read.dirs.begin(), read.dirs.end()), read.dirs.end());
  std::vector<std::string> dirs;
  for (const auto& d : read.dirs) {
    bool inside = false;
    for (const auto& o : read.dirs) inside = inside || (o != d && path_text::is_within(d, o));
    if (!inside && !write.covers(d)) dirs.push_back(d);
  }
  read.dirs = dirs;
  std::erase_if(read.files, [&](const std::string& f) {
    for (const auto& d : read.dirs) {
      if (path_text::is_within(f, d)) return true;
    }
    return false;
  });
  std::erase_if(optional, [&](const std::string& p) { return read.covers(p) || write.covers(p); });

  // Network.
  std::vector<std::string> servers = resolv_conf_nameservers();
  bool dns = false;
  std::vector<std::string> connects, binds, unix_notes;
  for (const auto& spec : connects_) {
    bool nameserver = false;
    for (const auto& ns : servers) {
      for (const char* t : {"udp:", "tcp:"}) {
        std::string v4 = std::string(t) + ns + ":53", v6 = std::string(t) + "[" + ns + "]:53";
        nameserver = nameserver || spec == v4 || spec == v6;
      }
    }
    if (nameserver) {
      dns = true;
    } else if (spec.starts_with("unix:/") && in_tmpdir(spec.substr(5))) {
      continue;  // the temp dir's sockets are the run's own
    } else {
      connects.push_back(spec);
    }
  }
  for (const auto& spec : binds_) {
    if (spec.starts_with("unix:/") && in_tmpdir(spec.substr(5))) continue;
    binds.push_back(spec);
  }
  bool tls_included = std::find(includes.begin(), includes.end(), "base:tls-client") != includes.end();

  // Render.
  std::ostringstream t;
  std::string cmd;
  for (const auto& a : command_) cmd += (cmd.empty() ? "" : " ") + a;
  t << "# Learned by wwjail learn from: " << escape_visibly(cmd) << "\n"
    << "# Review it before use: it grants what this one run touched, no more.\n"
    << "# Check it with: wwjail check FILE\n";
  if (!includes.empty()) {
    t << "include = [";
    for (size_t i = 0; i < includes.size(); ++i) t << (i ? ", " : "") << *toml_string(includes[i]);
    t << "]\n";
  }
  // A storage list names paths (glob-quoted); a network list names SPECs.
  // What cannot be written exactly is named in a comment after the list.
  auto list = [&](const char* key, const std::vector<std::string>& items, bool paths = true) {
    std::vector<std::string> entries, left_out;
    for (const auto& i : items) {
      PathEntry e = paths ? path_entry(i) : PathEntry{toml_string(i), "not UTF-8, which TOML cannot hold"};
      if (e.toml) entries.push_back(*e.toml);
      else left_out.push_back("# Not written (" + std::string(e.why) + "): " + key + " " + escape_visibly(i) + "\n");
    }
    if (!entries.empty()) {
      t << key << " = [\n";
      for (const auto& e : entries) t << "  " << e << ",\n";
      t << "]\n";
    }
    for (const auto& l : left_out) t << l;
    out.grants += entries.size();
  };
  std::vector<std::string> reads(read.files.begin(), read.files.end());
  reads.insert(reads.end(), read.dirs.begin(), read.dirs.end());
  for (const auto& o : optional) reads.push_back("?" + o);
  std::sort(reads.begin(), reads.end(), [](const std::string& a, const std::string& b) {
    return (a[0] == '?' ? a.substr(1) : a) < (b[0] == '?' ? b.substr(1) : b);
  });
  std::vector<std::string> execs;
  for (const auto& e : exec.files) {
    struct stat st;
    if (exists(e, st)) execs.push_back(e);
    else if (!covered_by_includes(e) && !read.covers(e) && !write.covers(e)) reads.push_back("?" + e);  // tried, absent
  }
  std::sort(reads.begin(), reads.end(), [](const std::string& a, const std::string& b) {
    return (a[0] == '?' ? a.substr(1) : a) < (b[0] == '?' ? b.substr(1) : b);
  });
  std::vector<std::string> writes, writes_broad;
  for (const auto& w : write.files) (too_broad_to_write(w) ? writes_broad : writes).push_back(w);

  t << "\n[storage]\n";
  list("read", reads);
  list("list", listed);
  if (!writes.empty() || !writes_broad.empty()) {
    out.writes_outside_tmpdir = true;
    t << "# WRITE OUTSIDE THE PRIVATE TEMP DIR: the program created, removed or\n"
      << "# changed files in these places during learning. Grant them only if it must.\n";
    list("write", writes);
    if (!writes_broad.empty()) {
      t << "# A system tree: the run wrote directly into it. Narrow this if you can.\n";
      list("write_broad", writes_broad);
    }
  }
  list("exec", execs);
  if (!proc_paths.empty()) {
    t << "# Not granted (process-specific, differs each run; grant /proc if the program needs it):\n";
    for (const auto& p : proc_paths) t << "#   " << escape_visibly(p) << "\n";
  }
  if (!binds.empty() || !connects.empty() || (dns && !tls_included)) {
    t << "\n[network]\n";
    list("bind", binds, false);
    list("connect", connects, false);
    if (dns && !tls_included) t << "dns = true\n";
  }
  out.text = t.str();
  return out;
}

std::optional<std::string> toml_string(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    size_t len = utf8_sequence(s, i, cp);
    if (len == 0) return std::nullopt;
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        // Controls, and the invisible ones a reviewer cannot see (bidi
        // overrides, line separators), are written as \\uXXXX.
        if (cp < 0x20 || cp == 0x7f || invisible_control(cp)) append_hex(out, static_cast<unsigned>(cp), "\\u", 4);
        else out.append(s.substr(i, len));
    }
    i += len;
  }
  return out + "\"";
}

std::string escape_visibly(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t plain = i;  // printable ASCII other than the backslash, copied as a run
    while (plain < s.size() && s[plain] >= 0x20 && s[plain] < 0x7f && s[plain] != '\\') ++plain;
    out.append(s.substr(i, plain - i));
    i = plain;
    if (i == s.size()) break;
    char32_t cp = 0;
    size_t len = utf8_sequence(s, i, cp);
    if (len == 1 && cp == '\\') {
      out += "\\\\";
    } else if (len == 1 && cp == '\n') {
      out += "\\n";
    } else if (len == 1 && cp == '\r') {
      out += "\\r";
    } else if (len == 1 && cp == '\t') {
      out += "\\t";
    } else if (len == 0 || cp < 0x20 || cp == 0x7f || invisible_control(cp)) {
      size_t n = len == 0 ? 1 : len;  // an invalid byte alone: what follows may be valid
      for (size_t k = 0; k < n; ++k) append_hex(out, static_cast<unsigned char>(s[i + k]), "\\x", 2);
      i += n;
      continue;
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

void write_learned_policy(const std::string& path, const std::string& text) {
  write_file_atomically(path, text, 0644, "writing the learned policy to");
}

}  // namespace wwjail
