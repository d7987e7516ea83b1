#include "wasm/abi/runner_args.h"

#include <cstdlib>
#include <string_view>

#include "policy/guest_name.h"

namespace wwjail {

std::vector<std::string> RunnerArgs::to_argv(const std::string& runner) const {
  std::vector<std::string> out = {runner, "--module", module, "--module-id", module_id};
  for (const Dir& d : dirs) out.insert(out.end(), {"--dir", d.host + "::" + d.guest});
  for (const std::string& e : env) out.insert(out.end(), {"--env", e});
  if (max_memory) out.insert(out.end(), {"--max-memory", std::to_string(max_memory)});
  out.push_back("--");
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

namespace {

RunnerArgs::Dir dir_of(const std::string& spec) {
  RunnerArgs::Dir d{spec, ""};
  if (!split_guest_name(d.host, d.guest))
    throw BadRunnerArgs("wwjail-wasm-run: --dir " + spec + ": the guest name after :: must be absolute");
  if (d.guest.empty()) d.guest = d.host;
  return d;
}

// The options, each with where its value goes.
struct Option {
  std::string_view name;
  void (*set)(RunnerArgs&, const std::string&);
};
constexpr Option kOptions[] = {
    {"--module", [](RunnerArgs& r, const std::string& v) { r.module = v; }},
    {"--module-id", [](RunnerArgs& r, const std::string& v) { r.module_id = v; }},
    {"--dir", [](RunnerArgs& r, const std::string& v) { r.dirs.push_back(dir_of(v)); }},
    {"--env", [](RunnerArgs& r, const std::string& v) { r.env.push_back(v); }},
    {"--max-memory", [](RunnerArgs& r, const std::string& v) { r.max_memory = std::strtoull(v.c_str(), nullptr, 10); }},
};

}  // namespace

RunnerArgs RunnerArgs::from_argv(const std::vector<std::string>& args) {
  RunnerArgs r;
  size_t i = 1;
  for (; i < args.size() && args[i] != "--"; ++i) {
    const Option* option = nullptr;
    for (const Option& o : kOptions) option = o.name == args[i] ? &o : option;
    if (!option) throw BadRunnerArgs("wwjail-wasm-run: unknown option " + args[i]);
    if (i + 1 >= args.size()) throw BadRunnerArgs("wwjail-wasm-run: " + args[i] + " needs a value");
    option->set(r, args[++i]);
  }
  if (r.module.empty() || r.module_id.empty() || i + 1 >= args.size())
    throw BadRunnerArgs("wwjail-wasm-run: usage: --module GUEST.so --module-id DEV:INO ... -- ARGV0 [ARGS...]");
  r.argv.assign(args.begin() + static_cast<std::ptrdiff_t>(i + 1), args.end());
  return r;
}

}  // namespace wwjail
