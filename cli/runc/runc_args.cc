#include "cli/runc/runc_args.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace wwjail::runc {
namespace {

constexpr std::string_view kOwnOption = "--wwjail-runtime";

// runc's and crun's global options that take a value as the next word.
bool global_takes_value(std::string_view a) {
  constexpr std::array<std::string_view, 7> names = {"--root",     "--log",           "--log-format", "--log-level",
                                                     "--criu",     "--rootless",      "--cgroup-manager"};
  return std::find(names.begin(), names.end(), a) != names.end();
}

// create's and run's options that take a value as the next word.
bool verb_takes_value(std::string_view a) {
  constexpr std::array<std::string_view, 3> names = {"--console-socket", "--pid-file", "--preserve-fds"};
  return std::find(names.begin(), names.end(), a) != names.end();
}

bool is_bundle_option(std::string_view a) { return a == "--bundle" || a == "-b"; }

void note_bundle(RuntimeArgs& out, bool& seen, std::string value) {
  if (seen) throw BadArgs("the bundle is given twice; give --bundle once");
  if (value.empty()) throw BadArgs("--bundle needs a directory");
  seen = true;
  out.bundle = std::move(value);
}

// The verb's own options: finds the bundle, refuses another config file.
void read_verb_options(const std::vector<std::string>& args, size_t from, RuntimeArgs& out) {
  bool seen = false;
  for (size_t i = from; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--") break;
    if (a == "--config" || a == "-f" || a.starts_with("--config=") || a.starts_with("-f="))
      throw BadArgs(std::string(a) + ": wwjail-runc rewrites the bundle's config.json only; give no other config file");
    if (is_bundle_option(a)) {
      if (i + 1 >= args.size()) throw BadArgs(std::string(a) + " needs a directory");
      note_bundle(out, seen, args[++i]);
    } else if (a.starts_with("--bundle=") || a.starts_with("-b=")) {
      note_bundle(out, seen, std::string(a.substr(a.find('=') + 1)));
    } else if (verb_takes_value(a)) {
      ++i;
    }
  }
}

}  // namespace

RuntimeArgs parse_runtime_args(const std::vector<std::string>& args) {
  RuntimeArgs out;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == kOwnOption) {
      if (i + 1 >= args.size() || args[i + 1].empty()) throw BadArgs("--wwjail-runtime needs a program");
      out.runtime = args[++i];
      continue;
    }
    if (a.starts_with(std::string(kOwnOption) + "=")) {
      out.runtime = std::string(a.substr(kOwnOption.size() + 1));
      if (out.runtime->empty()) throw BadArgs("--wwjail-runtime needs a program");
      continue;
    }
    if (a.empty() || a[0] != '-') break;  // the verb
    out.passed.push_back(args[i]);
    if (global_takes_value(a) && i + 1 < args.size()) {
      if (a == "--log") out.log_path = args[i + 1];
      if (a == "--log-format") out.log_format = args[i + 1];
      out.passed.push_back(args[++i]);
    } else if (a.starts_with("--log=")) {
      out.log_path = std::string(a.substr(6));
    } else if (a.starts_with("--log-format=")) {
      out.log_format = std::string(a.substr(13));
    }
  }
  const size_t verb_at = out.passed.size();
  if (i < args.size()) out.verb = args[i];
  for (; i < args.size(); ++i) out.passed.push_back(args[i]);
  if (out.rewrites()) read_verb_options(out.passed, verb_at + 1, out);
  return out;
}

}  // namespace wwjail::runc
