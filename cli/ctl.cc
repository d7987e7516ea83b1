// wwjail ctl: the control plane's command line (broker/control/).
//
//   wwjail ctl ps [--json]                      the running jails of this user
//   wwjail ctl stop NAME [--grace DURATION]     end a run (SIGTERM, SIGKILL after the grace)
//   wwjail ctl events NAME [--json]             its decisions as they are made, until it ends
//
// Exit status: 0 done; 1 no such jail, or it could not be reached; 125 bad
// usage or a control directory that cannot be trusted. Whatever the guest
// chose (paths, program arguments) is printed with its control characters
// escaped, so a jail's output cannot drive the terminal.
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <unistd.h>
#include <ctime>
#include <string>

#include "broker/control/control_client.h"
#include "broker/control/control_dir.h"
#include "cli/verbs.h"
#include "policy/duration.h"
#include "policy/policy_learner.h"
#include "policy/run_config.h"

namespace wwjail::cli {
namespace {

constexpr int kNoJail = 1;

std::string uptime(uint64_t started_unix_ms) {
  uint64_t now = static_cast<uint64_t>(std::time(nullptr)) * 1000;
  uint64_t s = now > started_unix_ms ? (now - started_unix_ms) / 1000 : 0;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  if (s < 86400) return std::to_string(s / 3600) + "h" + std::to_string(s / 60 % 60) + "m";
  return std::to_string(s / 86400) + "d" + std::to_string(s / 3600 % 24) + "h";
}

std::string command_line(const control::JailSummary& j) {
  std::string out;
  for (const auto& a : j.args) out += (out.empty() ? "" : " ") + escape_visibly(a);
  return out.empty() ? escape_visibly(j.program) : out;
}

nlohmann::json summary_json(const control::JailSummary& j) {
  return {{"name", j.name},       {"run_id", j.run_id},   {"pid", j.wwjail_pid},
          {"main_pid", j.main_pid}, {"program", j.program}, {"args", j.args},
          {"started_unix_ms", j.started_unix_ms}, {"uid", j.uid}, {"mode", j.mode},
          {"allowed", j.allowed}, {"audited", j.audited}, {"denied", j.denied},
          {"stopping", j.stopping}};
}

// The directory, if both sides may trust it; prints why not.
bool usable_dir(const std::string& dir) {
  struct stat st{};
  if (::lstat(dir.c_str(), &st) != 0 && errno == ENOENT) return true;  // no jail has run yet
  std::string why = control::trusted_dir_problem(dir);
  if (why.empty()) return true;
  std::fprintf(stderr, "wwjail ctl: the control directory cannot be trusted: %s\n", why.c_str());
  return false;
}

int ps(const std::string& dir, bool json) {
  if (!usable_dir(dir)) return exit_code::kSetupFailed;
  if (!json) std::printf("%-24s %8s %8s %8s %8s %-8s %s\n", "NAME", "PID", "GUEST", "UPTIME", "DENIED", "MODE", "COMMAND");
  for (const std::string& name : control::socket_names(dir)) {
    if (!control::valid_jail_name(name)) continue;
    try {
      control::ControlClient client(control::socket_path(dir, name), 2000);
      control::JailSummary j = client.info();
      if (json) {
        std::printf("%s\n", summary_json(j).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace).c_str());
      } else {
        std::printf("%-24s %8d %8d %8s %8llu %-8s %s\n", escape_visibly(j.name).c_str(), j.wwjail_pid, j.main_pid,
                    uptime(j.started_unix_ms).c_str(), static_cast<unsigned long long>(j.denied),
                    (j.stopping ? std::string("stopping") : escape_visibly(j.mode)).c_str(), command_line(j).c_str());
      }
    } catch (const control::ControlError& e) {
      if (!e.absent()) std::fprintf(stderr, "wwjail ctl: %s: %s\n", name.c_str(), escape_visibly(e.what()).c_str());
    }
  }
  return 0;
}

// Whether the socket at `path` goes within `ms`: its run has ended.
bool socket_goes(const std::string& path, int ms) {
  for (int waited = 0; waited < ms; waited += 10) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) return true;
    ::usleep(10000);
  }
  return false;
}

int stop(const std::string& dir, const std::string& name, uint32_t grace_ms) {
  const std::string path = control::socket_path(dir, name);
  control::ControlClient client(path);
  try {
    client.stop(grace_ms);
  } catch (const control::ControlError& e) {
    // A guest that ends at once can end the run before the answer is
    // written; a refused client sees the same close, but the socket stays.
    if (e.kind() == control::ControlError::kClosed && socket_goes(path, 3000)) return 0;
    throw;
  }
  // The run ends within the grace (then SIGKILL), plus its own teardown.
  uint32_t wait_ms = grace_ms > UINT32_MAX - 10000 ? UINT32_MAX : grace_ms + 10000;
  if (!client.wait_closed(wait_ms)) {
    std::fprintf(stderr, "wwjail ctl: %s did not end within %u ms\n", name.c_str(), wait_ms);
    return kNoJail;
  }
  return 0;
}

void print_event(const control::ReceivedEvent& e, bool json) {
  if (e.dropped_before)
    std::fprintf(stderr, "wwjail ctl: %llu events lost (this client was too slow)\n",
                 static_cast<unsigned long long>(e.dropped_before));
  if (json) {
    nlohmann::json j = {{"unix_ms", e.unix_ms}, {"tid", e.tid},       {"syscall", e.syscall}, {"target", e.target},
                        {"need", e.need},       {"decision", e.kind}, {"missing", e.missing}, {"reason", e.reason}};
    std::printf("%s\n", j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::string line = escape_visibly(e.kind) + " " + escape_visibly(e.syscall) + " " + escape_visibly(e.need) + " " +
                       escape_visibly(e.target) + " tid=" + std::to_string(e.tid);
    if (!e.missing.empty()) line += " (needs " + escape_visibly(e.missing) + ")";
    if (!e.reason.empty()) line += ": " + escape_visibly(e.reason);
    std::printf("%s\n", line.c_str());
  }
  std::fflush(stdout);
}

int events(const std::string& dir, const std::string& name, bool json) {
  control::ControlClient client(control::socket_path(dir, name));
  client.events([json](const control::ReceivedEvent& e) { print_event(e, json); });
  return 0;
}

}  // namespace

int ctl_verb(int argc, char** argv) {
  CLI::App app{"wwjail ctl: the running jails of this user (those started with --name or --control)", "wwjail ctl"};
  app.require_subcommand(1);
  bool json = false;
  std::string name, grace = "10s";
  auto* ps_cmd = app.add_subcommand("ps", "list the running jails");
  ps_cmd->add_flag("--json", json, "one JSON object per jail and line");
  auto* stop_cmd = app.add_subcommand("stop", "end a run: SIGTERM to its main guest, SIGKILL to its tree after the grace");
  stop_cmd->add_option("NAME", name, "the jail's name (wwjail ctl ps)")->required();
  stop_cmd->add_option("--grace", grace, "how long the guest has to exit after SIGTERM: N, Nms, Ns, Nm or Nh (default 10s)")
      ->type_name("DURATION");
  auto* events_cmd = app.add_subcommand("events", "print the jail's decisions as they are made, until it ends");
  events_cmd->add_option("NAME", name, "the jail's name (wwjail ctl ps)")->required();
  events_cmd->add_flag("--json", json, "one JSON object per event and line");
  if (auto done = parse_command_line(app, argc, argv, "ctl ")) return *done;

  const std::string dir = control::control_dir();
  try {
    if (ps_cmd->parsed()) return ps(dir, json);
    if (!control::valid_jail_name(name)) {
      std::fprintf(stderr, "wwjail ctl: '%s' is not a jail name\n", escape_visibly(name).c_str());
      return exit_code::kSetupFailed;
    }
    if (!usable_dir(dir)) return exit_code::kSetupFailed;
    if (stop_cmd->parsed()) {
      std::optional<uint32_t> grace_ms = parse_duration_ms(grace);
      if (!grace_ms) {
        std::fprintf(stderr, "wwjail ctl: --grace %s: write N, Nms, Ns, Nm or Nh\n", escape_visibly(grace).c_str());
        return exit_code::kSetupFailed;
      }
      return stop(dir, name, *grace_ms);
    }
    return events(dir, name, json);
  } catch (const control::ControlError& e) {
    if (e.absent()) std::fprintf(stderr, "wwjail ctl: no jail named %s is running (in %s)\n", name.c_str(), dir.c_str());
    else std::fprintf(stderr, "wwjail ctl: %s\n", escape_visibly(e.what()).c_str());
    return kNoJail;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wwjail ctl: %s\n", e.what());
    return exit_code::kSetupFailed;
  }
}

}  // namespace wwjail::cli
