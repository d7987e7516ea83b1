#include "policy/policy_file.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "capabilities/net_caps.h"
#include "sys/sys_error.h"

namespace wwjail {
namespace {

// Writing here is never an accident worth allowing silently.
const char* const kSystemTrees[] = {"/", "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/boot",
                                    "/dev", "/proc", "/sys", "/var", "/home", "/root"};

class PolicyReader {
 public:
  PolicyReader(std::string path, RunConfig& config) : path_(std::move(path)), config_(config) {
    auto slash = path_.find_last_of('/');
    dir_ = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
  }

  void read() {
    toml::table root;
    try {
      root = toml::parse_file(path_);
    } catch (const toml::parse_error& e) {
      fail_at(e.source(), std::string(e.description()) + "; the file must be valid TOML");
    } catch (const std::exception& e) {
      throw SetupError(path_ + ": cannot read the policy: " + e.what());
    }
    expect_keys(root, {"storage", "network"});
    if (auto* storage = root["storage"].node()) read_storage(table_of(*storage, "storage"));
    if (auto* network = root["network"].node()) read_network(table_of(*network, "network"));
  }

 private:
  [[noreturn]] void fail_at(const toml::source_region& where, const std::string& what) {
    throw SetupError(path_ + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column) +
                     ": " + what);
  }
  std::string origin(const toml::node& n, const std::string& what) {
    return path_ + ":" + std::to_string(n.source().begin.line) + " " + what;
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
      fail_at(n->source(), "'" + section + "." + key + "' must be an array of strings, e.g. " + key + " = [\"...\"]");
    for (const auto& el : *arr) {
      if (!el.is_string()) fail_at(el.source(), "'" + section + "." + key + "' holds a non-string; write \"...\"");
      out.push_back({*el.value<std::string>(), &el});
    }
    return out;
  }

  bool boolean(const toml::table& t, const char* key, const std::string& section, bool fallback) {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    if (!n->is_boolean()) fail_at(n->source(), "'" + section + "." + key + "' must be true or false");
    return *n->value<bool>();
  }

  std::string resolve(const std::string& p) { return p.empty() || p.front() == '/' ? p : dir_ + "/" + p; }

  std::string existing(const std::string& p, const toml::node& n, const char* key) {
    std::string full = resolve(p);
    char real[PATH_MAX];
    if (!::realpath(full.c_str(), real))
      fail_at(n.source(), std::string(key) + " path '" + p + "' does not exist" +
                              (full != p ? " (resolved against the policy's directory: " + full + ")" : "") +
                              "; grant paths must exist");
    return real;
  }

  void read_storage(const toml::table& t) {
    expect_keys(t, {"read", "write", "exec", "tmpdir", "keep_tmpdir", "write_broad"}, "storage");
    for (auto& [p, n] : strings(t, "read", "storage"))
      config_.grants.push_back({existing(p, *n, "read"), kRead, origin(*n, "read " + p)});
    auto deliberate = strings(t, "write_broad", "storage");
    for (auto& [p, n] : strings(t, "write", "storage")) {
      std::string real = existing(p, *n, "write");
      for (const char* tree : kSystemTrees) {
        if (real == tree)
          fail_at(n->source(), "write on " + real + " is too broad to be deliberate; grant the directories the program "
                               "writes, or list \"" + p + "\" under write_broad if you mean it");
      }
      config_.grants.push_back({real, kRead | kWrite, origin(*n, "write " + p)});
    }
    for (auto& [p, n] : deliberate)
      config_.grants.push_back({existing(p, *n, "write_broad"), kRead | kWrite, origin(*n, "write_broad " + p)});
    for (auto& [p, n] : strings(t, "exec", "storage"))
      config_.grants.push_back({existing(p, *n, "exec"), kRead | kExec, origin(*n, "exec " + p)});
    config_.tmpdir = boolean(t, "tmpdir", "storage", config_.tmpdir);
    config_.keep_tmpdir = boolean(t, "keep_tmpdir", "storage", config_.keep_tmpdir);
  }

  void read_network(const toml::table& t) {
    expect_keys(t, {"bind", "connect", "listen", "dns", "connect_broad"}, "network");
    auto add = [&](const char* key, const char* flag, bool check_broad) {
      for (auto& [spec, n] : strings(t, key, "network")) {
        std::string err;
        auto e = parse_net_spec(spec, err);
        if (!e) fail_at(n->source(), err);
        if (check_broad && e->transport != Transport::kUnix && (e->family == 0 || e->prefix == 0) &&
            e->port_lo == 0 && e->port_hi == 65535)
          fail_at(n->source(), "connect to " + spec + " reaches any peer on any port, too broad to be deliberate; "
                               "name the peers, or list \"" + spec + "\" under connect_broad if you mean it");
        if (e->transport == Transport::kUnix && !e->abstract && e->path.front() != '/') spec = resolve(e->path);
        config_.net.push_back({spec, flag});
      }
    };
    add("bind", "--bind", false);
    add("connect", "--connect", true);
    add("connect_broad", "--connect", false);
    add("listen", "--listen", false);
    if (boolean(t, "dns", "network", false)) config_.net.push_back({"dns", "--connect"});
  }

  std::string path_;
  std::string dir_;
  RunConfig& config_;
};

std::string join(const std::vector<std::string>& items) {
  if (items.empty()) return "nothing";
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : "\n           ") + i;
  return out;
}

}  // namespace

void load_policy_file(const std::string& path, RunConfig& config) { PolicyReader(path, config).read(); }

std::string describe_capabilities(const RunConfig& config) {
  std::vector<std::string> read, write, exec, bind, connect, listen;
  for (const auto& g : config.grants) {
    struct stat st{};
    bool dir = ::stat(g.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    std::string what = g.path + (dir ? " and everything below it" : "") + "  (" + g.origin + ")";
    if (g.rights & kExec) exec.push_back(what);
    if (g.rights & kWrite) write.push_back(what);
    else if (!(g.rights & kExec)) read.push_back(what);
  }
  for (const auto& r : config.net) {
    std::string what = r.spec == "dns" ? "the nameservers of /etc/resolv.conf on port 53 (udp and tcp)" : r.spec;
    (r.flag == "--bind" ? bind : r.flag == "--listen" ? listen : connect).push_back(what);
  }
  std::ostringstream out;
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
      << "always:    /dev/null, /dev/zero (read, write); /dev/urandom, /dev/random (read)\n";
  return out.str();
}

}  // namespace wwjail
