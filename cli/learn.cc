// wwjail learn -o FILE [OPTIONS] -- PROGRAM: runs the program with every
// grant lifted but recorded (broker/learn_observer.h), then writes the
// policy it needed (policy/policy_learner.h). The flags are a run's.
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "broker/guest_run.h"
#include "broker/learn_observer.h"
#include "cli/learn.h"
#include "policy/policy_learner.h"

namespace wwjail::cli {

int learn_policy(const RunConfig& config, LogSinks& logs, const std::string& output) {
  PolicyLearner learner(config.command);
  const char* home = std::getenv("HOME");
  if (const passwd* pw = ::getpwuid(::getuid())) learner.set_home(pw->pw_dir, home ? home : "");
  LearnObserver observer(learner);
  bool started = false;
  int status = run_guest(config, logs, &observer, &started);
  if (!started) return status;  // nothing ran: nothing learned, no file written
  LearnedPolicy learned = learner.render();
  write_learned_policy(output, learned.text);
  report_learned_policy(logs, output, learned.grants, learned.writes_outside_tmpdir);
  return status;
}

}  // namespace wwjail::cli
