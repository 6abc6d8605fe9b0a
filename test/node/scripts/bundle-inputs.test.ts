import { describe, expect, it } from "vitest";
import * as zodCore from "zod/v4/core";
import { unwantedInputs, type Metafile } from "../../../scripts/bundle-inputs";
import * as aliased from "../../../src/lib/zod-json-schema";

const bundle = (inputs: Record<string, number>): Metafile => ({
  outputs: { "index.js": { inputs: Object.fromEntries(Object.entries(inputs).map(([input, bytesInOutput]) => [input, { bytesInOutput }])) } },
});

describe("unwantedInputs (npm run build:check)", () => {
  it("accepts zod's English locale, the one zod registers by default, and the product's own modules", () => {
    expect(unwantedInputs(bundle({ "src/index.ts": 900, "node_modules/zod/v4/locales/en.js": 4_500, "node_modules/zod/v4/core/schemas.js": 87_000 }))).toEqual([]);
  });

  it("names another locale that left code in the bundle, and how it usually gets there", () => {
    const problems = unwantedInputs(bundle({ "node_modules/zod/v4/locales/en.js": 4_500, "node_modules/zod/v4/locales/fr.js": 6_100 }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("node_modules/zod/v4/locales/fr.js (6100 bytes)");
    expect(problems[0]).toContain("import * as z");
  });

  it("says it once for many such modules, with their count and total size", () => {
    const problems = unwantedInputs(bundle({ "node_modules/zod/v4/locales/fr.js": 100, "node_modules/zod/v4/locales/de.js": 200, "node_modules/zod/v4/locales/ru.js": 300, "node_modules/zod/v4/locales/kk.js": 400 }));
    expect(problems).toEqual([expect.stringMatching(/^node_modules\/zod\/v4\/locales\/fr\.js, .+ and 1 more \(1000 bytes\): /)]);
  });

  it("ignores a module esbuild shook down to nothing (the locales' index, when nothing reads it)", () => {
    expect(unwantedInputs(bundle({ "node_modules/zod/v4/locales/index.js": 0, "node_modules/zod/v4/locales/ru.js": 0 }))).toEqual([]);
  });
});

describe("what wrangler.toml's [alias] gives for zod/v4/core", () => {
  it("is zod's own JSON Schema converter, the one thing hono-openapi reads from that module", () => {
    expect(Object.keys(aliased)).toEqual(["toJSONSchema"]);
    expect(aliased.toJSONSchema).toBe(zodCore.toJSONSchema);
  });
});
