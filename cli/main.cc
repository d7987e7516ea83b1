// wwjail's entry point: picks the verb (cli/verbs.h). Everything the verbs
// need is passed down from them, no globals.
#include <cstdio>
#include <string>

#include "cli/verbs.h"
#include "policy/run_config.h"

namespace wwjail::cli {

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv, const std::string& verb) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "wwjail: %s (see wwjail %s--help)\n", e.what(), verb.c_str());
    return exit_code::kSetupFailed;
  }
  return std::nullopt;
}

}  // namespace wwjail::cli

int main(int argc, char** argv) {
  using namespace wwjail::cli;
  std::string verb = argc >= 2 ? argv[1] : "";
  if (verb == "check") return check_verb(argc, argv);
  if (verb == "learn") return run_verb(argc - 1, argv + 1, true);
  if (verb == "compile") return compile_verb(argc - 1, argv + 1);
  if (verb == "ctl") return ctl_verb(argc - 1, argv + 1);
  return run_verb(argc, argv, false);
}
