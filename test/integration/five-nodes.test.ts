import { afterAll, beforeAll, expect, it } from "vitest";
import { TestCluster } from "./cluster-helpers.js";

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.create({ size: 5, plugin: "counter" });
});

afterAll(async () => {
  await cluster?.destroy();
});

it("a 5-node counter cluster elects a leader and keeps working with two nodes down", async () => {
  const leader = await cluster.waitForLeader();
  expect((await cluster.status(leader))?.voters).toEqual([1, 2, 3, 4, 5]);
  for (let k = 0; k < 5; k++) {
    await cluster.invoke({ type: "command", op: { f: "add", value: 2 } });
  }
  const followers = [1, 2, 3, 4, 5].filter((id) => id !== leader);
  await cluster.kill(followers[0]!);
  await cluster.kill(followers[1]!);
  await cluster.invoke({ type: "command", op: { f: "add", value: 1 } });
  const read = await cluster.invoke({ type: "read", op: { f: "read", value: null } });
  expect(read).toMatchObject({ ok: true, result: 11 });
});
