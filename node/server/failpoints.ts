// The node's failpoints (node/protocol/failpoints.ts names them). A disarmed point costs a map
// lookup. Armed, `hit` returns a promise the caller awaits: it resolves after a sleep, rejects with
// FailpointError for `error`, and `panic` ends the process on the spot, as gofail's panic does.
import type { FailpointAction, FailpointName } from "../protocol/failpoints.js";
import { describeFailpointAction } from "../protocol/failpoints.js";

export class FailpointError extends Error {
  readonly code = "FAILPOINT";
  override readonly name = "FailpointError";
}

export interface FailpointsOptions {
  /** Ends the process at once (the node passes a logged process.exit; tests record the call). */
  panic: (name: FailpointName) => never;
  /** Called with each hit of an armed point, for the log. */
  onHit?: (name: FailpointName, action: FailpointAction) => void;
}

export class Failpoints {
  readonly #armed = new Map<FailpointName, FailpointAction>();
  readonly #options: FailpointsOptions;

  constructor(options: FailpointsOptions) {
    this.#options = options;
  }

  set(name: FailpointName, action: FailpointAction): void {
    if (action.kind === "off") {
      this.#armed.delete(name);
    } else {
      this.#armed.set(name, action);
    }
  }

  /** Armed points and their actions, e.g. { beforeFsync: "sleep(500ms)" }. */
  list(): Record<string, string> {
    return Object.fromEntries([...this.#armed].map(([name, action]) => [name, describeFailpointAction(action)]));
  }

  /** The armed action at a point, for callers that cannot wait (see hit for the meaning). */
  action(name: FailpointName): FailpointAction | undefined {
    const action = this.#armed.get(name);
    if (action !== undefined) {
      this.#options.onHit?.(name, action);
      if (action.kind === "panic") {
        this.#options.panic(name);
      }
    }
    return action;
  }

  /**
   * For synchronous code (applying entries, installing a snapshot): a sleep blocks the node's
   * event loop, as a stuck apply would; error throws FailpointError; panic ends the process.
   */
  hitSync(name: FailpointName): void {
    const action = this.action(name);
    if (action?.kind === "sleep") {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, action.ms);
    } else if (action?.kind === "error") {
      throw new FailpointError(`failpoint ${name}: injected error`);
    }
  }

  /** undefined when the point is disarmed; otherwise a promise to await (see the file header). */
  hit(name: FailpointName): Promise<void> | undefined {
    const action = this.action(name);
    if (action === undefined) {
      return undefined;
    }
    if (action.kind === "sleep") {
      return new Promise((resolve) => setTimeout(resolve, action.ms));
    }
    return Promise.reject(new FailpointError(`failpoint ${name}: injected error`));
  }
}
