// wwjail's entry point: picks the verb (cli/verbs.h). Everything the verbs
// need is passed down from them, no globals.
#include <string>

#include "cli/verbs.h"

int main(int argc, char** argv) {
  using namespace wwjail::cli;
  std::string verb = argc >= 2 ? argv[1] : "";
  if (verb == "check") return check_verb(argc, argv);
  if (verb == "learn") return run_verb(argc - 1, argv + 1, true);
  if (verb == "compile") return compile_verb(argc - 1, argv + 1);
  return run_verb(argc, argv, false);
}
