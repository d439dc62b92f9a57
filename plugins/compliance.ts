// The compliance suite every plugin must pass, built-in or third-party (the libp2p
// interface-compliance-tests idea): call describePluginCompliance(plugin) from a vitest file.
// It checks the state machine against the model on random sequences, snapshot/restore,
// determinism, error codes, and that the model is pure, total on unknown outcomes and strict on reads.
import { describe, it } from "vitest";
import type { Plugin } from "./api.js";
import { pluginComplianceChecks, type ComplianceOptions } from "./compliance-checks.js";

export type { ComplianceCheck, ComplianceOptions } from "./compliance-checks.js";
export { pluginComplianceChecks } from "./compliance-checks.js";

export function describePluginCompliance<S>(plugin: Plugin<S>, options: ComplianceOptions = {}): void {
  describe(`plugin compliance: ${plugin.name}`, () => {
    for (const check of pluginComplianceChecks(plugin, options)) {
      it(check.name, () => check.run());
    }
  });
}
