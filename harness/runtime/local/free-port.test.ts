import net from "node:net";
import { describe, expect, test } from "vitest";
import { ephemeralPortRange, freePorts } from "./free-port.js";

async function bindable(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

describe("freePorts", () => {
  test("hands out distinct free ports below the kernel's ephemeral range, where a proxy on port 0 or an outgoing connection never lands", async () => {
    const [ephemeralLow] = ephemeralPortRange();
    const ports = await freePorts(12);
    expect(new Set(ports).size).toBe(12);
    for (const port of ports) {
      expect(port).toBeLessThan(ephemeralLow);
      expect(await bindable(port)).toBe(true);
    }
  });

  test("skips a port that is taken", async () => {
    const taken = (await freePorts(1))[0]!;
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(taken, "127.0.0.1", () => resolve()));
    try {
      const [ephemeralLow] = ephemeralPortRange();
      const fraction = (taken - 10_000 + 0.5) / (ephemeralLow - 10_000);
      // The first draw lands on the taken port; later draws are the generator's own.
      let draws = 0;
      const ports = await freePorts(1, () => (draws++ === 0 ? fraction : Math.random()));
      expect(ports[0]).not.toBe(taken);
      expect(draws).toBeGreaterThan(1);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });
});
