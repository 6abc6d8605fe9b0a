import { describe, expect, it } from "vitest";
describe("node project", () => { it("runs on node >= 22 via npm scripts", () => { expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(20); }); });
