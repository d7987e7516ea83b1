#include "policy/policy_learner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
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
  bool holds_below(const std::string& dir) const {
    for (const auto& d : dirs) {
      if (path_text::is_within(d, dir)) return true;
    }
    for (const auto& f : files) {
      if (path_text::is_within(f, dir)) return true;
    }
    return false;
  }
};

bool exists(const std::string& path, struct stat& st) { return ::lstat(path.c_str(), &st) == 0; }
bool exists(const std::string& path) {
  struct stat st;
  return exists(path, st);
}
bool is_dir(const std::string& path) {
  struct stat st;
  return exists(path, st) && S_ISDIR(st.st_mode);
}

bool is_proc_pid(const std::string& path) {
  if (!path.starts_with("/proc/")) return false;
  size_t i = 6;
  return i < path.size() && path[i] >= '0' && path[i] <= '9';
}

// What one run recorded, as render() sees it (under the learner's lock).
struct Recorded {
  const std::vector<std::string>& command;
  const std::map<std::string, uint8_t>& paths;
  const std::set<std::string>& binds;
  const std::set<std::string>& connects;
  const std::string& tmpdir;
  const std::string& home;  // the passwd home when $HOME names another directory, else empty

  bool in_tmpdir(const std::string& p) const { return !tmpdir.empty() && path_text::is_within(p, tmpdir); }
  // Paths that exist only on this host, or only for this user: written
  // optional, so the policy passes `check` elsewhere.
  bool host_specific(const std::string& p) const {
    return path_text::is_within(p, "/sys/fs/cgroup") || (!home.empty() && path_text::is_within(p, home));
  }
};

bool profile_covers(const RunConfig& c, const std::string& path) {
  for (const auto& g : c.grants) {
    if (path_text::is_within(path, g.path)) return true;
  }
  return std::find(c.absent_paths.begin(), c.absent_paths.end(), path) != c.absent_paths.end();
}

// 1. The base profiles the run needed, most specific first.
struct Includes {
  std::vector<std::string> names;           // "base:NAME"
  std::vector<RunConfig> loaded;            // python3, tls-client, dynamic-elf
  std::vector<const RunConfig*> included;  // those of `loaded` in effect

  bool covers(const std::string& path) const {
    for (const auto* c : included) {
      if (profile_covers(*c, path)) return true;
    }
    return false;
  }
  bool holds_below(const std::string& dir) const {
    for (const auto* c : included) {
      for (const auto& g : c->grants) {
        if (path_text::is_within(g.path, dir)) return true;
      }
    }
    return false;
  }
};

// Whether the run read a file that `profile` grants and dynamic-elf does not.
bool profile_hit(const Recorded& rec, const RunConfig& profile, const RunConfig& elf) {
  for (const auto& [path, needs] : rec.paths) {
    if ((needs & ~kReadish) || rec.in_tmpdir(path)) continue;
    if (profile_covers(profile, path) && (&profile == &elf || !profile_covers(elf, path))) return true;
  }
  return false;
}

Includes choose_includes(const Recorded& rec, bool used_dns) {
  static constexpr const char* kNames[] = {"python3", "tls-client", "dynamic-elf"};
  Includes inc;
  for (const char* name : kNames) inc.loaded.push_back(load_base_profile(name));
  const RunConfig& elf = inc.loaded.back();
  for (size_t i = 0; i < inc.loaded.size(); ++i) {
    const RunConfig& p = inc.loaded[i];
    // A profile that grants network access (tls-client's dns) is pulled in
    // by network use, never by a configuration file read alone (OpenSSL
    // reads openssl.cnf in every program linked to it): those reads are
    // granted one by one instead.
    if (!p.net.empty() && !used_dns) continue;
    if (!profile_hit(rec, p, elf)) continue;
    // A profile that includes dynamic-elf makes including it again moot.
    if (&p != &elf || inc.included.empty()) inc.names.push_back(std::string("base:") + kNames[i]);
    inc.included.push_back(&p);
  }
  return inc;
}

// Network: binds and connects as SPECs, resolver traffic as dns = true.
struct Network {
  bool dns = false;
  std::vector<std::string> binds, connects;
};

bool to_nameserver(const std::string& spec, const std::vector<std::string>& servers) {
  for (const auto& ns : servers) {
    for (const char* t : {"udp:", "tcp:"}) {
      if (spec == std::string(t) + ns + ":53" || spec == std::string(t) + "[" + ns + "]:53") return true;
    }
  }
  return false;
}

Network fold_network(const Recorded& rec) {
  Network net;
  const std::vector<std::string> servers = resolv_conf_nameservers();
  auto own_socket = [&](const std::string& spec) { return spec.starts_with("unix:/") && rec.in_tmpdir(spec.substr(5)); };
  for (const auto& spec : rec.connects) {
    if (to_nameserver(spec, servers)) {
      net.dns = true;
    } else if (own_socket(spec)) {
      continue;  // the temp dir's sockets are the run's own
    } else if (spec.starts_with("unix:/") && !exists(spec.substr(5))) {
      // Tried and absent (glibc's nscd socket where no nscd runs): optional,
      // so the guest is told it is absent, as it was during learning.
      net.connects.push_back("?" + spec);
    } else {
      net.connects.push_back(spec);
    }
  }
  for (const auto& spec : rec.binds) {
    if (!own_socket(spec)) net.binds.push_back(spec);
  }
  return net;
}

// 2-3. Writes and execs.
struct Storage {
  GrantSet read, write, exec;
  std::set<std::string> optional;           // "?PATH": absent, or only on this host
  std::vector<std::string> listed;          // list grants
  std::vector<std::string> proc_paths;      // other processes' /proc entries, not granted
  std::vector<std::string> probes;          // execs of absent paths (PATH search)
};

// Drops from `g.files` what a directory grant in it covers, and keeps as
// directory grants only the outermost directories.
void keep_outermost(GrantSet& g) {
  std::set<std::string> kept;
  for (const auto& w : g.files) {
    bool inside = false;
    for (const auto& d : g.dirs) inside = inside || (w != d && path_text::is_within(w, d));
    if (!inside) kept.insert(w);
  }
  g.files = std::move(kept);
  std::erase_if(g.dirs, [&](const std::string& d) { return !g.files.count(d); });
}

void fold_writes_and_execs(const Recorded& rec, Storage& s) {
  for (const auto& [path, needs] : rec.paths) {
    if (rec.in_tmpdir(path)) continue;
    if (is_proc_pid(path)) {
      s.proc_paths.push_back(path);
      continue;
    }
    if (needs & (bit(Need::kCreate) | bit(Need::kRemove))) {
      std::string dir = path_text::split_last(path).parent;
      if (!rec.in_tmpdir(dir) && dir != rec.tmpdir) s.write.files.insert(dir);  // a directory grant; folded below
    }
    if ((needs & bit(Need::kWrite)) && exists(path)) s.write.files.insert(path);
    if (needs & bit(Need::kExec)) {
      if (exists(path)) s.exec.files.insert(path);
      else s.probes.push_back(path);
    }
  }
  // A write grant on a directory covers everything below it.
  for (const auto& w : s.write.files) {
    if (is_dir(w)) s.write.dirs.push_back(w);
  }
  keep_outermost(s.write);
}

// 4-5. Reads: the files read, by directory, and the directories looked at.
struct ReadsSeen {
  std::map<std::string, std::vector<std::string>> files_by_dir;
  std::vector<std::string> looked_at_dirs;
};

ReadsSeen collect_reads(const Recorded& rec, const Includes& inc, Storage& s) {
  ReadsSeen seen;
  for (const auto& [path, needs] : rec.paths) {
    if (rec.in_tmpdir(path) || is_proc_pid(path) || path == rec.tmpdir) continue;
    if (s.write.covers(path) || s.exec.covers(path)) continue;
    if (!(needs & kReadish) && !(needs & bit(Need::kWrite))) continue;
    struct stat st;
    if (!exists(path, st)) {
      if (!inc.covers(path)) s.optional.insert(path);
      continue;
    }
    if (inc.covers(path)) continue;
    if (rec.host_specific(path)) {
      s.optional.insert(path);
    } else if (S_ISDIR(st.st_mode)) {
      seen.looked_at_dirs.push_back(path);
    } else {
      seen.files_by_dir[path_text::split_last(path).parent].push_back(path);
    }
  }
  return seen;
}

// Whether the run looked into every directory `dir` holds now (a tree it
// walked), so a grant on `dir` reaches no subtree the program never saw.
bool explored_every_subdir(const Recorded& rec, const std::string& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->symlink_status(ec).type() != std::filesystem::file_type::directory) continue;
    if (!rec.paths.count(it->path().string())) return false;
  }
  return !ec;
}

// A directory the program listed, read files in and walked whole is what it
// worked on (a tree it archived, a directory it serves): it is granted
// whole, so the policy still holds when the directory gains a file. So is
// one it read kFoldThreshold files in. Never / or a top-level system tree.
bool worked_on(const Recorded& rec, const std::string& dir, size_t files_read) {
  if (never_fold_into(dir)) return false;
  if (files_read >= kFoldThreshold) return true;
  auto it = rec.paths.find(dir);
  bool listed = it != rec.paths.end() && (it->second & bit(Need::kRead));
  return listed && files_read > 0 && explored_every_subdir(rec, dir);
}

void fold_reads(const Recorded& rec, const Includes& inc, Storage& s) {
  ReadsSeen seen = collect_reads(rec, inc, s);
  for (auto& [dir, files] : seen.files_by_dir) {
    if (worked_on(rec, dir, files.size())) s.read.dirs.push_back(dir);
    else s.read.files.insert(files.begin(), files.end());
  }
  std::sort(s.read.dirs.begin(), s.read.dirs.end());
  s.read.dirs.erase(std::unique(s.read.dirs.begin(), s.read.dirs.end()), s.read.dirs.end());
  std::vector<std::string> dirs;
  for (const auto& d : s.read.dirs) {
    bool inside = false;
    for (const auto& o : s.read.dirs) inside = inside || (o != d && path_text::is_within(d, o));
    if (!inside && !s.write.covers(d)) dirs.push_back(d);
  }
  s.read.dirs = std::move(dirs);
  std::erase_if(s.read.files, [&](const std::string& f) {
    for (const auto& d : s.read.dirs) {
      if (path_text::is_within(f, d)) return true;
    }
    return false;
  });
  // A directory only looked at (stat) needs a grant only when no other
  // grant lies below it (the ancestors of grants may always be looked at);
  // one listed gets a list grant: its entries, nothing below.
  for (const auto& d : seen.looked_at_dirs) {
    if (s.read.covers(d) || s.write.covers(d)) continue;
    bool below = s.read.holds_below(d) || s.write.holds_below(d) || s.exec.holds_below(d) || inc.holds_below(d);
    if (!(rec.paths.at(d) & bit(Need::kRead)) && below) continue;
    s.listed.push_back(d);
  }
  std::erase_if(s.optional, [&](const std::string& p) { return s.read.covers(p) || s.write.covers(p); });
}

// Writing the policy text.
class PolicyText {
 public:
  explicit PolicyText(LearnedPolicy& out) : out_(out) {}

  // A storage list names paths (glob-quoted); a network list names SPECs.
  // What cannot be written exactly is named in a comment after the list.
  void list(const char* key, const std::vector<std::string>& items, bool paths = true) {
    std::vector<std::string> entries, left_out;
    for (const auto& i : items) {
      PathEntry e = paths ? path_entry(i) : PathEntry{toml_string(i), "not UTF-8, which TOML cannot hold"};
      if (!e.toml) {
        left_out.push_back("# Not written (" + std::string(e.why) + "): " + key + " " + escape_visibly(i) + "\n");
        continue;
      }
      entries.push_back(*e.toml);
      // "?PATH" grants nothing while absent (a "?unix:" socket was absent).
      if (!i.starts_with("?") || (paths && exists(i.substr(1)))) ++out_.grants;
    }
    if (!entries.empty()) {
      t_ << key << " = [\n";
      for (const auto& e : entries) t_ << "  " << e << ",\n";
      t_ << "]\n";
    }
    for (const auto& l : left_out) t_ << l;
  }
  std::ostringstream& raw() { return t_; }
  std::string str() const { return t_.str(); }

 private:
  LearnedPolicy& out_;
  std::ostringstream t_;
};

bool before_ignoring_mark(const std::string& a, const std::string& b) {
  return (a[0] == '?' ? a.substr(1) : a) < (b[0] == '?' ? b.substr(1) : b);
}

void write_header(PolicyText& t, const Recorded& rec, const Includes& inc) {
  std::string cmd;
  for (const auto& a : rec.command) cmd += (cmd.empty() ? "" : " ") + a;
  t.raw() << "# Learned by wwjail learn from: " << escape_visibly(cmd) << "\n"
          << "# Review it before use: it grants what this one run touched, no more.\n"
          << "# Check it with: wwjail check FILE\n";
  if (inc.names.empty()) return;
  t.raw() << "include = [";
  for (size_t i = 0; i < inc.names.size(); ++i) t.raw() << (i ? ", " : "") << *toml_string(inc.names[i]);
  t.raw() << "]\n";
}

void write_storage(PolicyText& t, const Storage& s, const Includes& inc, LearnedPolicy& out) {
  std::vector<std::string> reads(s.read.files.begin(), s.read.files.end());
  reads.insert(reads.end(), s.read.dirs.begin(), s.read.dirs.end());
  for (const auto& o : s.optional) reads.push_back("?" + o);
  // Execs of absent paths (a PATH search trying each directory) grant
  // nothing: written "?PATH", the guest is told they are absent, as it was.
  for (const auto& p : s.probes) {
    if (!inc.covers(p) && !s.read.covers(p) && !s.write.covers(p) && !s.optional.count(p)) reads.push_back("?" + p);
  }
  std::sort(reads.begin(), reads.end(), before_ignoring_mark);
  t.raw() << "\n[storage]\n";
  if (std::any_of(reads.begin(), reads.end(), [](const std::string& r) { return r[0] == '?'; }))
    t.raw() << "# \"?PATH\" grants nothing while PATH is absent (as during learning, or on\n"
            << "# another host); the guest is then told it is absent, not denied.\n";
  std::vector<std::string> writes, writes_broad;
  for (const auto& w : s.write.files) (too_broad_to_write(w) ? writes_broad : writes).push_back(w);
  t.list("read", reads);
  t.list("list", s.listed);
  if (!writes.empty() || !writes_broad.empty()) {
    out.writes_outside_tmpdir = true;
    t.raw() << "# WRITE OUTSIDE THE PRIVATE TEMP DIR: the program created, removed or\n"
            << "# changed files in these places during learning. Grant them only if it must.\n";
    t.list("write", writes);
    if (!writes_broad.empty()) {
      t.raw() << "# A system tree: the run wrote directly into it. Narrow this if you can.\n";
      t.list("write_broad", writes_broad);
    }
  }
  t.list("exec", std::vector<std::string>(s.exec.files.begin(), s.exec.files.end()));
  if (!s.proc_paths.empty()) {
    t.raw() << "# Not granted: other processes' /proc entries (the guest's own are readable\n"
            << "# without a grant; these differ each run):\n";
    for (const auto& p : s.proc_paths) t.raw() << "#   " << escape_visibly(p) << "\n";
  }
}

void write_network(PolicyText& t, const Network& net, const Includes& inc) {
  bool dns_included = false;
  for (const auto* c : inc.included) dns_included = dns_included || !c->net.empty();
  const bool dns = net.dns && !dns_included;
  if (net.binds.empty() && net.connects.empty() && !dns) return;
  t.raw() << "\n[network]\n";
  t.list("bind", net.binds, false);
  if (std::any_of(net.connects.begin(), net.connects.end(), [](const std::string& c) { return c[0] == '?'; }))
    t.raw() << "# \"?unix:PATH\": absent during learning; allowed if it exists, else reported absent.\n";
  t.list("connect", net.connects, false);
  if (dns) t.raw() << "dns = true\n";
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

void PolicyLearner::set_home(std::string_view passwd_home, std::string_view env_home) {
  std::lock_guard lock(mu_);
  home_.clear();
  if (!passwd_home.starts_with("/")) return;
  std::string passwd = path_text::normalize(passwd_home);
  if (passwd == "/") return;  // would make every path optional
  if (env_home.starts_with("/") && path_text::normalize(env_home) == passwd) return;
  home_ = passwd;
}

LearnedPolicy PolicyLearner::render() const {
  std::lock_guard lock(mu_);
  const Recorded rec{command_, paths_, binds_, connects_, tmpdir_, home_};
  Network net = fold_network(rec);
  Includes inc = choose_includes(rec, net.dns);
  Storage s;
  fold_writes_and_execs(rec, s);
  fold_reads(rec, inc, s);
  LearnedPolicy out;
  PolicyText t(out);
  write_header(t, rec, inc);
  write_storage(t, s, inc, out);
  write_network(t, net, inc);
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
