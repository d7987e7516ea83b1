#include "policy/policy_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glob.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "capabilities/net_caps.h"
#include "capabilities/path_text.h"
#include "policy/base_profiles.h"
#include "policy/environment.h"
#include "policy/grant_kinds.h"
#include "policy/capability_names.h"
#include "policy/limits.h"
#include "policy/policy_learner.h"
#include "sys/sys_error.h"
#include "sys/unique_fd.h"

namespace wwjail {
namespace {

constexpr int kMaxIncludeDepth = 16;

const char* file_kind(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    default: return "not a regular file";
  }
}

// Reads a whole policy file into `text`, or says in `why` why it is not one.
// Opened with O_NONBLOCK, since opening a FIFO for reading otherwise waits
// for a writer forever; then judged on the open descriptor (no race with a
// rename): a directory reads as empty and a device such as /dev/zero never
// ends, so only a regular file of at most kMaxPolicyBytes is a policy. The
// read itself is bounded too, in case the file grows meanwhile.
bool read_policy_text(const std::string& path, std::string& text, std::string& why) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  struct stat st{};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    why = std::strerror(errno);
    return false;
  }
  const std::string rule = "; a policy is a regular file of at most 1 MiB";
  if (!S_ISREG(st.st_mode)) {
    why = std::string("it is ") + file_kind(st.st_mode) + rule;
    return false;
  }
  text.clear();
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::strerror(errno);
      return false;
    }
    if (n == 0) return true;
    if (text.size() + static_cast<size_t>(n) > kMaxPolicyBytes) {
      why = "it is larger than 1 MiB" + rule;
      return false;
    }
    text.append(buf, static_cast<size_t>(n));
  }
}

// Debian's toml++ 3.3.0 asks whether a non-ASCII character is whitespace
// through a generated table that reaches __builtin_unreachable (undefined
// behaviour) for most of U+00A1..U+0499: a bare key followed by U+0344,
// "[a\xcd\x84]", does (upstream marzer/tomlplusplus#190). The parser asks
// that question of every character outside strings and comments, and in a
// multi-line basic string of the character after a backslash (and after the
// whitespace a line-ending backslash skips). So before any text reaches
// the parser, a non-ASCII character is refused in those places; TOML 1.0
// allows one nowhere else but in strings and comments.
class TomlPrescan {
 public:
  explicit TomlPrescan(std::string_view text) : text_(text) {
    if (text_.starts_with("\xef\xbb\xbf")) i_ = 3;  // a UTF-8 byte order mark
  }

  // "LINE:COLUMN: what" (columns count characters, as the parser's do), or
  // nothing when the text is safe to parse.
  std::optional<std::string> run() {
    while (i_ < text_.size() && problem_.empty()) {
      switch (in_) {
        case In::kCode: code(); break;
        case In::kComment:
        case In::kBasic:
        case In::kLiteral: one_line(); break;
        case In::kMultiBasic:
        case In::kMultiLiteral: multi_line(); break;
      }
    }
    if (problem_.empty()) return std::nullopt;
    return problem_;
  }

 private:
  enum class In { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };

  char at(size_t i) const { return i < text_.size() ? text_[i] : '\0'; }
  static bool ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }
  static bool one_of(char c, const char* set) { return c != '\0' && std::strchr(set, c) != nullptr; }
  size_t quotes(char q) const {  // the run of `q` starting here
    size_t n = 0;
    while (at(i_ + n) == q) ++n;
    return n;
  }
  // Moves past the current byte (if any: an escape may be the last one),
  // keeping LINE:COLUMN of the next character.
  void step() {
    if (i_ >= text_.size()) return;
    char c = text_[i_++];
    if (c == '\n') {
      ++line_;
      column_ = 0;
    } else if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) {
      ++column_;
    }
  }
  void fail(const char* what) { problem_ = std::to_string(line_) + ":" + std::to_string(column_ + 1) + ": " + what; }

  // The parser reads a string only where a key or a value begins: after
  // = [ , { or a line break, or after the dot of a dotted key. Elsewhere a
  // quote is code to it, and so is what follows: after a value, and inside
  // a number or date, which it scans from the digit or sign it begins with
  // up to a line break ] } , or # (so through spaces, = [ { and quotes).
  bool scanned() const { return (run_ >= '0' && run_ <= '9') || run_ == '+' || run_ == '-'; }
  bool opens_string() const {
    if (scanned()) return false;
    if (one_of(prev_, "=[,{\n")) return true;
    // "a"."b" and a.b."c" are dotted keys.
    bool key = (run_ >= 'a' && run_ <= 'z') || (run_ >= 'A' && run_ <= 'Z') || run_ == '_' || run_ == '"' ||
               run_ == '\'';
    return prev_ == '.' && key;
  }

  void code() {
    char c = text_[i_];
    if (!ascii(c))
      return fail("a non-ASCII character outside a quoted string or a comment; TOML 1.0 bare keys are A-Z, a-z, "
                  "0-9, '-' and '_': quote the key (\"...\")");
    if ((c == '"' || c == '\'') && opens_string()) {
      bool multi = quotes(c) >= 3;
      in_ = c == '"' ? (multi ? In::kMultiBasic : In::kBasic) : (multi ? In::kMultiLiteral : In::kLiteral);
      for (int k = multi ? 3 : 1; k > 0; --k) step();
      return;
    }
    if (c == '#') in_ = In::kComment;
    if (scanned()) {
      if (one_of(c, "\n]},#")) run_ = 0;
    } else if (c == ' ' || c == '\t' || c == '\r' || one_of(c, "\n=[]{},#\"'")) {
      run_ = 0;
    } else if (!run_) {
      run_ = c;
    }
    if (c != ' ' && c != '\t' && c != '\r') prev_ = c;
    step();
  }

  // A comment or a one-line string. A newline ends either (the parser then
  // reports an unterminated string).
  void one_line() {
    char c = text_[i_];
    if (c == '\n') {
      in_ = In::kCode;
      prev_ = '\n';
      run_ = 0;
    } else if ((in_ == In::kBasic && c == '"') || (in_ == In::kLiteral && c == '\'')) {
      close(c);
    } else if (in_ == In::kBasic && c == '\\') {
      step();  // an escape: the next character is taken with it
    }
    step();
  }

  void multi_line() {
    char q = in_ == In::kMultiBasic ? '"' : '\'';
    char c = text_[i_];
    if (c == q) {
      // Three quotes close the string; up to two more before them are the
      // string's own.
      size_t n = quotes(q);
      if (n >= 3) close(q);
      for (size_t k = 0; k < std::min<size_t>(n, 5); ++k) step();
      return;
    }
    step();
    if (in_ != In::kMultiBasic || c != '\\') return;
    // After a backslash: a line-ending one makes the parser skip the
    // whitespace and line breaks that follow, then read on as usual.
    size_t from = i_;
    while (one_of(at(i_), " \t\r\n\v\f")) step();
    if (i_ < text_.size() && !ascii(text_[i_]))
      return fail("a non-ASCII character after a backslash in a multi-line string; write it as \\uXXXX");
    if (i_ == from) step();  // an escape (\" too): the next character is taken with it
  }

  void close(char q) {  // a string ended: it counts as a run of its own
    in_ = In::kCode;
    prev_ = run_ = q;
  }

  std::string_view text_;
  size_t i_ = 0;
  size_t line_ = 1, column_ = 0;
  In in_ = In::kCode;
  // The last code character other than a space or tab, and the first of
  // the run of key or number characters that holds the current one (0
  // outside one).
  char prev_ = '\n', run_ = 0;
  std::string problem_;
};

// The paths a grant entry names before canonicalisation: itself, or what
// its glob characters (* ? [) match, sorted.
std::vector<std::string> expand_glob(const std::string& full) {
  if (full.find_first_of("*?[") == std::string::npos) return {full};
  std::vector<std::string> out;
  glob_t g{};
  if (::glob(full.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

// Everything one load shares across the files it includes.
struct LoadState {
  RunConfig& config;
  std::vector<std::string> chain;  // the files being read, outermost first (cycle detection)
};

// Reads one policy file (or a shipped base profile) into the config.
class PolicyReader {
 public:
  // `name` is what errors call the file: its path, or "base:NAME".
  PolicyReader(LoadState& state, std::string name, std::string dir) : state_(state), config_(state.config),
      path_(std::move(name)), dir_(std::move(dir)) {}

  void read(std::string_view text) {
    if (auto unsafe = TomlPrescan(text).run()) throw SetupError(path_ + ":" + *unsafe);
    toml::table root;
    try {
      root = toml::parse(text, path_);
    } catch (const toml::parse_error& e) {
      fail_at(e.source(), std::string(e.description()) + "; the file must be valid TOML");
    }
    expect_keys(root, {"include", "storage", "network", "env", "limits", "capabilities"});
    for (auto& [inc, n] : strings(root, "include", "")) include(inc, *n);
    if (auto* storage = root["storage"].node()) read_storage(table_of(*storage, "storage"));
    if (auto* network = root["network"].node()) read_network(table_of(*network, "network"));
    if (auto* env = root["env"].node()) read_env(table_of(*env, "env"));
    if (auto* limits = root["limits"].node()) read_limits(table_of(*limits, "limits"));
    if (auto* caps = root["capabilities"].node()) read_capabilities(table_of(*caps, "capabilities"));
  }

 private:
  [[noreturn]] void fail_at(const toml::source_region& where, const std::string& what) {
    throw SetupError(path_ + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column) +
                     ": " + what);
  }
  std::string origin(const toml::node& n, const std::string& what) {
    return path_ + ":" + std::to_string(n.source().begin.line) + " " + what;
  }
  static std::string dotted(const std::string& section, const std::string& key) {
    return section.empty() ? key : section + "." + key;
  }

  const toml::table& table_of(const toml::node& n, const std::string& name) {
    if (!n.is_table()) fail_at(n.source(), "'" + name + "' must be a table ([" + name + "])");
    return *n.as_table();
  }

  void expect_keys(const toml::table& t, std::set<std::string> allowed, const std::string& section = "") {
    for (const auto& [key, value] : t) {
      if (allowed.count(std::string(key.str()))) continue;
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail_at(key.source(), "unknown key '" + std::string(key.str()) + "'" +
                                (section.empty() ? "" : " in [" + section + "]") + "; the keys are: " + list);
    }
  }

  // A string array; each element with its node, for positions.
  std::vector<std::pair<std::string, const toml::node*>> strings(const toml::table& t, const char* key,
                                                                 const std::string& section) {
    std::vector<std::pair<std::string, const toml::node*>> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    const toml::array* arr = n->as_array();
    if (!arr)
      fail_at(n->source(), "'" + dotted(section, key) + "' must be an array of strings, e.g. " + key + " = [\"...\"]");
    for (const auto& el : *arr) {
      if (!el.is_string()) fail_at(el.source(), "'" + dotted(section, key) + "' holds a non-string; write \"...\"");
      out.push_back({*el.value<std::string>(), &el});
    }
    return out;
  }

  bool boolean(const toml::table& t, const char* key, const std::string& section, bool fallback) {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    if (!n->is_boolean()) fail_at(n->source(), "'" + dotted(section, key) + "' must be true or false");
    return *n->value<bool>();
  }

  std::string resolve(const std::string& p) { return p.empty() || p.front() == '/' ? p : dir_ + "/" + p; }

  // include = ["base:NAME", "relative/or/absolute.toml"]
  void include(const std::string& what, const toml::node& n) {
    if (state_.chain.size() >= kMaxIncludeDepth)
      fail_at(n.source(), "includes nest deeper than " + std::to_string(kMaxIncludeDepth) + " files");
    std::string name, dir, text;
    if (what.starts_with("base:")) {
      auto profile = find_base_profile(what.substr(5));
      if (!profile) {
        std::string list;
        for (const auto& p : base_profiles()) list += (list.empty() ? "base:" : ", base:") + std::string(p.name);
        fail_at(n.source(), "no base profile '" + what + "'; the shipped ones are: " + list);
      }
      name = what;
      dir = "/";
      text = *profile;
    } else {
      std::string full = resolve(what);
      char real[PATH_MAX];
      if (!::realpath(full.c_str(), real))
        fail_at(n.source(), "included file '" + what + "' cannot be opened: " + std::strerror(errno) +
                                (full != what ? " (resolved against the policy's directory: " + full + ")" : ""));
      name = real;
      auto slash = name.find_last_of('/');
      dir = slash == 0 ? "/" : name.substr(0, slash);
      std::string why;
      if (!read_policy_text(name, text, why)) fail_at(n.source(), "included file '" + what + "' cannot be read: " + why);
    }
    for (const auto& open : state_.chain) {
      if (open == name) fail_at(n.source(), "'" + what + "' includes itself (through " + chain_text() + "); remove one include");
    }
    state_.chain.push_back(name);
    PolicyReader(state_, name, dir).read(text);
    state_.chain.pop_back();
    config_.policy_files.push_back(name);
  }

  std::string chain_text() const {
    std::string out;
    for (const auto& c : state_.chain) out += (out.empty() ? "" : " -> ") + c;
    return out;
  }

  // The canonical paths a grant entry names. "?PATH" is optional: absent, it
  // names nothing (and the guest may learn it is absent). Glob characters
  // (* ? [) are expanded; a pattern that matches nothing is absent.
  struct Named {
    std::vector<std::string> paths;
    std::vector<std::string> aliases;  // per path: the absolute path before canonicalisation
    std::string guest;                 // "HOST::GUEST"
    std::vector<std::string> absent;  // optional entries that do not exist (no glob)
  };
  Named named(const std::string& entry, const toml::node& n, const std::string& key) {
    std::string err;
    GrantEntry written = parse_grant_entry(entry, err);
    if (!err.empty()) fail_at(n.source(), key + ": " + err);
    const bool optional = written.optional;
    const std::string& p = written.path;
    Named out;
    out.guest = written.guest;
    std::string full = resolve(p);
    std::vector<std::string> candidates = expand_glob(full);
    for (const auto& c : candidates) {
      char real[PATH_MAX];
      if (::realpath(c.c_str(), real)) {
        out.paths.emplace_back(real);
        std::string as_written = c.front() == '/' ? path_text::normalize(c) : "";
        out.aliases.push_back(as_written != real ? as_written : "");
      } else if (optional && candidates.size() == 1 && full.find_first_of("*?[") == std::string::npos) {
        out.absent.push_back(path_text::normalize(c));
      }
    }
    if (out.paths.empty() && !optional)
      fail_at(n.source(), key + " path '" + p + "' does not exist" +
                              (full != p ? " (resolved against the policy's directory: " + full + ")" : "") +
                              "; grant paths must exist (write \"?" + p + "\" for a path that may be absent)");
    return out;
  }

  void add_grants(const toml::table& t, const GrantKind& kind) {
    const std::string key(kind.key);
    for (auto& [p, n] : strings(t, key.c_str(), "storage")) {
      Named got = named(p, *n, key);
      for (size_t i = 0; i < got.paths.size(); ++i) {
        const std::string& real = got.paths[i];
        if (auto broad = too_broad_path(kind, real))
          fail_at(n->source(), *broad + ", or list \"" + p + "\" under " + std::string(kind.deliberate) +
                                   " if you mean it");
        struct stat st{};
        if (kind.list_only && (::stat(real.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)))
          fail_at(n->source(), "list path '" + p + "' is not a directory; list a directory, or grant the file under read");
        GrantRequest g{real, kind.rights, origin(*n, key + " " + p)};
        g.list_only = kind.list_only;
        g.alias = got.aliases[i];
        g.guest = got.guest;
        config_.grants.push_back(std::move(g));
      }
      for (const auto& absent : got.absent) config_.absent_paths.push_back(absent);
    }
  }

  // The keys of a section: its grant kinds' and `others`.
  static std::set<std::string> keys_of(GrantKind::Section section, std::set<std::string> others) {
    for (const auto& kind : grant_kinds()) {
      if (kind.section == section) others.insert(std::string(kind.key));
    }
    return others;
  }

  void read_storage(const toml::table& t) {
    expect_keys(t, keys_of(GrantKind::Section::kStorage, {"tmpdir", "keep_tmpdir", "metadata"}), "storage");
    for (const auto& kind : grant_kinds()) {
      if (kind.section == GrantKind::Section::kStorage) add_grants(t, kind);
    }
    config_.tmpdir = boolean(t, "tmpdir", "storage", config_.tmpdir);
    config_.keep_tmpdir = boolean(t, "keep_tmpdir", "storage", config_.keep_tmpdir);
    if (const toml::node* n = t.get("metadata")) config_.metadata = metadata(*n);
  }

  MetadataMode metadata(const toml::node& n) {
    auto text = n.value<std::string>();
    auto mode = text && n.is_string() ? parse_metadata(*text) : std::nullopt;
    if (!mode) fail_at(n.source(), "'storage.metadata' must be one of \"hidden\", \"visible\"");
    return *mode;
  }

  // One [network] entry: "?unix:PATH" is optional (its directory may be
  // absent); a relative unix socket path is relative to this file, like
  // every other path in it.
  void add_net_grant(const GrantKind& kind, std::string spec, const toml::node& n) {
    const bool optional = spec.starts_with("?");
    if (optional) spec.erase(0, 1);
    if (spec.starts_with("unix:") && spec.size() > 5 && spec[5] != '/' && spec[5] != '@')
      spec = "unix:" + resolve(spec.substr(5));
    std::string err;
    auto e = parse_net_spec(spec, err);
    if (!e) fail_at(n.source(), err);
    const std::string verb(kind.verb);
    if (optional && !optional_socket_allowed(*e, verb, err)) fail_at(n.source(), err);
    if (optional) spec.insert(0, "?");
    if (auto broad = too_broad_peer(kind, *e))
      fail_at(n.source(), "connect to " + spec + " " + *broad + ", or list \"" + spec + "\" under " +
                              std::string(kind.deliberate) + " if you mean it");
    config_.net.push_back({spec, verb, origin(n, std::string(kind.key) + " " + spec)});
  }

  void read_network(const toml::table& t) {
    expect_keys(t, keys_of(GrantKind::Section::kNetwork, {"dns"}), "network");
    for (const auto& kind : grant_kinds()) {
      if (kind.section != GrantKind::Section::kNetwork) continue;
      for (auto& [spec, n] : strings(t, std::string(kind.key).c_str(), "network")) add_net_grant(kind, spec, *n);
    }
    if (const toml::node* dns = t.get("dns"); dns && boolean(t, "dns", "network", false))
      config_.net.push_back({"dns", "--connect", origin(*dns, "dns")});
  }

  void read_env(const toml::table& t) {
    expect_keys(t, {"inherit", "set", "unset"}, "env");
    if (const toml::node* n = t.get("inherit")) {
      if (n->is_boolean()) {
        env_inherit_all(config_.env, *n->value<bool>());
      } else if (n->is_array()) {
        config_.env.inherit = EnvRequest::Inherit::kListed;
        for (auto& [name, el] : strings(t, "inherit", "env")) {
          if (!env_inherit_only(config_.env, name)) bad_env_name(name, *el);
        }
      } else {
        fail_at(n->source(), "'env.inherit' must be true, false or a list of names, e.g. inherit = [\"PATH\", \"LANG\"]");
      }
    }
    if (const toml::node* n = t.get("set")) {
      const toml::table* set = n->as_table();
      if (!set) fail_at(n->source(), "'env.set' must be a table, e.g. set = { LANG = \"C.UTF-8\" }");
      for (const auto& [key, value] : *set) {
        std::string name(key.str());
        if (!valid_env_name(name)) bad_env_name(name, value);
        if (!value.is_string()) fail_at(value.source(), "env.set." + name + " must be a string; write \"...\"");
        env_set(config_.env, name, *value.value<std::string>());
      }
    }
    for (auto& [name, el] : strings(t, "unset", "env")) {
      if (!env_unset(config_.env, name)) bad_env_name(name, *el);
    }
  }

  [[noreturn]] void bad_env_name(const std::string& name, const toml::node& n) {
    fail_at(n.source(), "'" + name + "' is not an environment variable name (no '=' allowed)");
  }

  // A limit's value as text: a whole number or a string ("64M", "unlimited").
  std::string limit_text(const std::string& name, const toml::node& value) {
    if (auto i = value.value<int64_t>(); i && value.is_integer()) {
      if (*i < 0) fail_at(value.source(), "limits." + name + " must not be negative");
      return std::to_string(*i);
    }
    if (!value.is_string())
      fail_at(value.source(), "limits." + name + " must be a number or a string such as \"64M\" or \"unlimited\"");
    return *value.value<std::string>();
  }

  void read_limits(const toml::table& t) {
    for (const auto& [key, value] : t) {
      std::string name(key.str());
      // wasm_memory: a WebAssembly guest's linear memory (--max-memory).
      bool wasm_memory = name == "wasm_memory";
      if (!wasm_memory && !find_limit(name))
        fail_at(key.source(), "unknown limit '" + name + "' in [limits]; the limits are: " + limit_name_list() +
                                  ", wasm_memory");
      std::string text = limit_text(name, value);
      std::string err;
      auto request = parse_limit_request(wasm_memory ? "memory" : name, text,
                                         origin(value, "limits." + name + " = " + text), err);
      if (!request) fail_at(value.source(), err);
      if (wasm_memory) config_.wasm_max_memory = request->value == RLIM_INFINITY ? 0 : request->value;
      else config_.limits.push_back(std::move(*request));
    }
  }

  void read_capabilities(const toml::table& t) {
    expect_keys(t, {"keep"}, "capabilities");
    for (auto& [name, el] : strings(t, "keep", "capabilities")) {
      auto cap = parse_capability(name);
      if (!cap)
        fail_at(el->source(), "'" + name + "' is not a capability name; write one such as \"CAP_NET_BIND_SERVICE\" "
                              "(see capabilities(7))");
      config_.cap_keep.push_back({*cap, origin(*el, "capabilities.keep " + capability_name(*cap))});
    }
  }

  LoadState& state_;
  RunConfig& config_;
  std::string path_;
  std::string dir_;
};

// Items may hold any byte (a learned policy names what a guest created):
// each is shown escaped, so none can fake another line or drive the
// terminal; the line breaks between items are the only ones.
std::string join(const std::vector<std::string>& items) {
  if (items.empty()) return "nothing";
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : "\n           ") + escape_visibly(i);
  return out;
}

}  // namespace

void load_policy_file(const std::string& path, RunConfig& config) {
  std::string text, why;
  if (!read_policy_text(path, text, why)) throw SetupError(path + ": cannot read the policy: " + why);
  char real[PATH_MAX];
  std::string canonical = ::realpath(path.c_str(), real) ? real : path;
  LoadState state{config, {canonical}};
  // Relative grant paths are relative to the file's directory, made
  // absolute here so every path the reader records is absolute.
  auto slash = canonical.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : canonical.substr(0, slash);
  PolicyReader(state, path, dir).read(text);
  config.policy_files.push_back(path);
}

void load_policy_text(std::string_view text, const std::string& name, const std::string& dir, RunConfig& config) {
  LoadState state{config, {name}};
  PolicyReader(state, name, dir).read(text);
  config.policy_files.push_back(name);
}

RunConfig load_base_profile(const std::string& name) {
  auto text = find_base_profile(name);
  if (!text) throw SetupError("no base profile '" + name + "'");
  RunConfig config;
  LoadState state{config, {"base:" + name}};
  PolicyReader(state, "base:" + name, "/").read(*text);
  return config;
}

namespace {

// What a UDP bind grant implies besides the bind (capabilities/net_caps.h).
std::string udp_reply_note(const std::string& spec) {
  std::string error;
  auto e = parse_net_spec(spec, error);
  if (!e || e->transport != Transport::kUdp) return "";
  if (!grants_replies(*e)) return "; no replies (a port range or *: only a single port grants replies)";
  // Every address of the grant is loopback: 127/8 or narrower, or ::1.
  bool loopback = loopback_address(e->family, e->addr) && e->prefix >= (e->family == AF_INET ? 8 : 128);
  return loopback ? "; its socket may reply to unicast peers on loopback"
                  : "; its socket may reply to any unicast peer (no broadcast, no multicast)";
}

void describe_grants(const RunConfig& config, std::ostringstream& out) {
  std::vector<std::string> read, write, exec, bind, connect, listen;
  for (const auto& g : config.grants) {
    struct stat st{};
    bool dir = ::stat(g.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    std::string what = g.path + (g.list_only ? " (its entries only)" : dir ? " and everything below it" : "") + "  (" +
                       g.origin + ")";
    if (g.rights & kExec) exec.push_back(what);
    if (g.rights & kWrite) write.push_back(what);
    else if (!(g.rights & kExec)) read.push_back(what);
  }
  for (const auto& r : config.net) {
    std::string what = r.spec == "dns" ? "the nameservers of /etc/resolv.conf on port 53 (udp and tcp)" : r.spec;
    if (!r.origin.empty()) what += "  (" + r.origin + ")";
    if (r.flag == "--bind") what += udp_reply_note(r.spec);
    (r.flag == "--bind" ? bind : r.flag == "--listen" ? listen : connect).push_back(what);
  }
  out << "read:      " << join(read) << "\n"
      << "write:     " << join(write) << "\n"
      << "exec:      " << join(exec) << "  (besides the program, its interpreter and libraries)\n"
      << "bind:      " << join(bind) << "\n"
      << "connect:   " << join(connect) << "\n"
      << "listen:    " << join(listen) << "  (bound by wwjail, handed over as fd 3..)\n"
      << "temp dir:  "
      << (config.tmpdir ? (config.keep_tmpdir ? "private $TMPDIR, kept after the run" : "private $TMPDIR, removed after the run")
                        : "none")
      << "\n"
      << "always:    /dev/null, /dev/zero (read, write); /dev/urandom, /dev/random (read); locale data (read)\n";
}

std::string describe_env(const EnvRequest& e) {
  std::string env;
  switch (e.inherit) {
    case EnvRequest::Inherit::kAll: env = "inherits wwjail's environment"; break;
    case EnvRequest::Inherit::kNone: env = "inherits nothing"; break;
    case EnvRequest::Inherit::kListed: {
      env = "inherits only";
      for (const auto& k : e.keep) env += " " + k;
      break;
    }
  }
  if (!e.unset.empty()) {
    env += "; unsets";
    for (const auto& k : e.unset) env += " " + k;
  }
  if (!e.set.empty()) {
    env += "; sets";
    for (const auto& [k, v] : e.set) env += " " + k + "=" + escape_visibly(v);
  }
  return env;
}

std::string describe_limits(const RunConfig& config) {
  std::vector<std::string> limits;
  for (const auto& l : config.limits) {
    std::string value = l.value == RLIM_INFINITY ? "unlimited" : std::to_string(l.value);
    for (const auto& n : limit_names()) {
      if (n.resource == l.resource) limits.push_back(std::string(n.name) + " " + value + "  (" + l.origin + ")");
    }
  }
  if (config.wasm_max_memory) limits.push_back("wasm_memory " + std::to_string(config.wasm_max_memory) + "  (WebAssembly linear memory)");
  return limits.empty() ? "wwjail's own" : join(limits);
}

// How the grants are enforced (policy/enforcement.h).
void describe_enforcement(const RunConfig& config, std::ostringstream& out) {
  out << "mediate:   " << mediate_name(config.mediate)
      << (config.mediate == MediateMode::kAuto ? "  (the kernel decides what it can; today the broker still mediates "
                                                  "every file call)"
                                                : "  (the broker mediates every file call)")
      << "\n"
      << "metadata:  " << metadata_name(config.metadata)
      << (config.metadata == MetadataMode::kHidden ? "  (no stat, readlink or access outside the grants)"
                                                    : "  (stat, readlink and access allowed outside the grants)")
      << "\n";
}

}  // namespace

std::string describe_capabilities(const RunConfig& config) {
  std::ostringstream out;
  describe_grants(config, out);
  out << "env:       " << describe_env(config.env) << "\n";
  out << "limits:    " << describe_limits(config) << "\n";
  std::vector<std::string> kept;
  for (const auto& c : config.cap_keep) kept.push_back(capability_name(c.cap) + "  (" + c.origin + ")");
  out << "caps:      " << (kept.empty() ? "none (every capability dropped, root or not)" : "keeps " + join(kept)) << "\n";
  describe_enforcement(config, out);
  if (!config.absent_paths.empty()) out << "absent:    " << join(config.absent_paths) << "  (optional; reported as absent)\n";
  if (config.policy_files.size() > 1) {
    std::vector<std::string> included(config.policy_files.begin(), config.policy_files.end() - 1);
    out << "included:  " << join(included) << "\n";
  }
  return out.str();
}

}  // namespace wwjail
