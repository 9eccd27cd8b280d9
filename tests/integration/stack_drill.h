#pragma once
// A drill against the suite's local stack (scripts/stack): both rooms from
// the stack's environment, its admin token and run directory, and short load
// phases (3 s before the fault, 3 s after the promotion) so that a test stays
// within its time.
#include "replication/ops/drill.h"
#include "tests/integration/stack_env.h"

namespace danmu::testing {

inline replication::DrillOptions StackDrillOptions(bool planned) {
  replication::DrillOptions o;
  o.planned = planned;
  o.a = {"A", Env("DANMU_A_HTTP"), Env("DANMU_A_ADMIN")};
  o.b = {"B", Env("DANMU_B_HTTP"), Env("DANMU_B_ADMIN")};
  o.token = AdminToken();
  o.run_dir = Env("DANMU_RUN_DIR");
  o.warmup_ms = 3000;
  o.after_ms = 3000;
  return o;
}

}  // namespace danmu::testing
