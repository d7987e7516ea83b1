// Feeds the decisions of a `wwjail learn` run to a PolicyLearner, minus
// what wwjail grants every run by itself.
#pragma once

#include <string_view>

#include "broker/decision_log.h"
#include "policy/policy_learner.h"

namespace wwjail {

class LearnObserver final : public DecisionObserver {
 public:
  explicit LearnObserver(PolicyLearner& learner) : learner_(learner) {}

  void observe(const DecisionEvent& e) override {
    if (e.kind == DecisionKind::kDeny) return;  // refused whatever the grants (escapes): nothing to learn
    if (e.grant && !e.grant->audit_fallback) {
      if (e.grant->origin == "private temp dir") learner_.set_tmpdir(e.grant->path);
      if (automatic(e.grant->origin)) return;
    }
    if (e.storage) {
      learner_.storage(e.target, e.storage_need);
    } else if (!(e.net_grant && automatic(e.net_grant->origin))) {
      learner_.network(e.need == "bind", e.target);
    }
  }

 private:
  // Grants build_storage_caps adds to every run (policy/run_config.cc).
  static bool automatic(std::string_view origin) {
    for (std::string_view prefix : {"the program", "interpreter of ", "library of ", "dynamic loader cache",
                                    "locale data", "default device", "private temp dir"}) {
      if (origin.starts_with(prefix)) return true;
    }
    return false;
  }

  PolicyLearner& learner_;
};

}  // namespace wwjail
