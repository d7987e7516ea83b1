#include "cli/runc/runc_args.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

namespace wwjail::runc {
namespace {

constexpr std::string_view kOwnOption = "wwjail-runtime";

struct FlagSpec {
  std::string_view name;
  bool takes_value;
};

// runc's global options (urfave/cli) and crun's that runc lacks.
constexpr std::array<FlagSpec, 14> kGlobalFlags = {{{"root", true},        {"log", true},
                                                    {"log-format", true},  {"log-level", true},
                                                    {"criu", true},        {"rootless", true},
                                                    {"cgroup-manager", true}, {"debug", false},
                                                    {"systemd-cgroup", false}, {"help", false},
                                                    {"h", false},          {"version", false},
                                                    {"v", false},          {"V", false}}};

// create's and run's options (runc's and crun's).
constexpr std::array<FlagSpec, 11> kVerbFlags = {{{"bundle", true},        {"b", true},
                                                  {"console-socket", true}, {"pid-file", true},
                                                  {"preserve-fds", true},  {"no-pivot", false},
                                                  {"no-new-keyring", false}, {"detach", false},
                                                  {"d", false},            {"keep", false},
                                                  {"no-subreaper", false}}};

// One option word as runc's flag package reads it: -x, --x, -x=v or --x=v.
struct Flag {
  std::string_view name;
  std::optional<std::string_view> value;  // the text after '=', when given so
};

bool is_option(std::string_view a) { return a.size() > 1 && a[0] == '-' && a != "--"; }

Flag split_flag(std::string_view a) {
  std::string_view body = a.substr(a.starts_with("--") ? 2 : 1);
  if (body.empty() || body[0] == '-' || body[0] == '=') throw BadArgs(std::string(a) + ": not an option runc reads");
  Flag f{body, std::nullopt};
  if (size_t eq = body.find('='); eq != std::string_view::npos) {
    f.name = body.substr(0, eq);
    f.value = body.substr(eq + 1);
  }
  return f;
}

template <size_t N>
const FlagSpec* find_spec(const std::array<FlagSpec, N>& table, std::string_view name) {
  auto it = std::find_if(table.begin(), table.end(), [&](const FlagSpec& s) { return s.name == name; });
  return it == table.end() ? nullptr : &*it;
}

// The option's value: after '=' or the next word (taken even when it
// starts with '-', as runc takes it). Advances i past a next-word value.
std::string flag_value(const std::vector<std::string>& args, size_t& i, const Flag& f) {
  if (f.value) return std::string(*f.value);
  if (i + 1 >= args.size()) throw BadArgs(args[i] + " needs a value");
  return args[++i];
}

void note_bundle(RuntimeArgs& out, bool& seen, std::string value) {
  if (seen) throw BadArgs("the bundle is given twice; give --bundle once");
  if (value.empty()) throw BadArgs("--bundle needs a directory");
  seen = true;
  out.bundle = std::move(value);
}

// The verb's own options: finds the bundle; refuses another config file
// and any option wwjail-runc cannot read, so nothing it misread runs.
void read_verb_options(const std::vector<std::string>& args, size_t from, RuntimeArgs& out) {
  bool seen = false;
  for (size_t i = from; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--") break;
    if (!is_option(a)) continue;  // the container id
    Flag f = split_flag(a);
    if (f.name == "config" || f.name == "f")
      throw BadArgs(std::string(a) + ": wwjail-runc rewrites the bundle's config.json only; give no other config file");
    const FlagSpec* spec = find_spec(kVerbFlags, f.name);
    if (!spec) throw BadArgs(std::string(a) + ": an option of " + out.verb + " wwjail-runc does not know; refused");
    if (!spec->takes_value) continue;
    std::string value = flag_value(args, i, f);
    if (f.name == "bundle" || f.name == "b") note_bundle(out, seen, std::move(value));
  }
}

// A global option: passed on (with its value), noting --log and --log-format.
void read_global_option(const std::vector<std::string>& args, size_t& i, RuntimeArgs& out) {
  Flag f = split_flag(args[i]);
  const FlagSpec* spec = find_spec(kGlobalFlags, f.name);
  if (!spec) throw BadArgs(args[i] + ": a global option wwjail-runc does not know; refused");
  out.passed.push_back(args[i]);
  if (!spec->takes_value) return;
  const size_t at = i;
  std::string value = flag_value(args, i, f);
  if (i != at) out.passed.push_back(value);
  if (f.name == "log") out.log_path = value;
  if (f.name == "log-format") out.log_format = value;
}

}  // namespace

RuntimeArgs parse_runtime_args(const std::vector<std::string>& args) {
  RuntimeArgs out;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (!is_option(a)) break;  // the verb
    if (split_flag(a).name == kOwnOption) {
      out.runtime = flag_value(args, i, split_flag(a));
      if (out.runtime->empty()) throw BadArgs("--wwjail-runtime needs a program");
      continue;
    }
    read_global_option(args, i, out);
  }
  if (i < args.size() && args[i] == "--") throw BadArgs("--: no verb follows; refused");
  const size_t verb_at = out.passed.size();
  if (i < args.size()) out.verb = args[i];
  for (; i < args.size(); ++i) out.passed.push_back(args[i]);
  if (out.rewrites()) read_verb_options(out.passed, verb_at + 1, out);
  return out;
}

}  // namespace wwjail::runc
