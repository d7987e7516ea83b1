// Feeds the decisions of a `wwjail learn` run to a PolicyLearner, minus
// what wwjail grants every run by itself.
#pragma once

#include <string_view>

#include "broker/decision_log.h"
#include "policy/policy_learner.h"
#include "policy/run_config.h"

namespace wwjail {

class LearnObserver final : public DecisionObserver {
 public:
  explicit LearnObserver(PolicyLearner& learner) : learner_(learner) {}

  void observe(const DecisionEvent& e) override {
    if (e.kind == DecisionKind::kDeny) return;  // refused whatever the grants (escapes): nothing to learn
    if (e.hint == DecisionHint::kAddressProbe) return;  // getaddrinfo's UDP probe sends nothing: no grant
    if (e.grant && !e.grant->audit_fallback) {
      if (e.grant->origin == kTmpdirOrigin) learner_.set_tmpdir(e.grant->path);
      if (e.grant->automatic) return;  // every run has it: nothing to write down
    }
    if (e.storage) {
      learner_.storage(e.target, e.storage_need);
    } else {
      learner_.network(e.need == "bind", e.target);
    }
  }

 private:
  PolicyLearner& learner_;
};

}  // namespace wwjail
