/**
 * What the Worker bundle must not carry, checked by `npm run build:check` on esbuild's metafile of the
 * build (`wrangler deploy --dry-run --metafile`). Each entry is a module that costs every isolate memory
 * (V8 keeps the whole bundle's source) and that only a mistaken import brings back.
 */
const UNWANTED: { module: RegExp; why: string }[] = [
  {
    module: /node_modules\/zod\/v4\/locales\/(?!(en|index)\.js$)/,
    why:
      "zod's error-message locales beyond English (400 KB): an `import { z } from \"zod\"` keeps every export of zod " +
      "(import it as `import * as z from \"zod\"`), and so does a dynamic import of `zod/v4/core` past wrangler.toml's [alias]",
  },
];

/** The part of esbuild's metafile read here: each output's inputs and the bytes each left in it. */
export interface Metafile {
  outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
}

/** One line per kind of unwanted module that left code in the bundle: which, how many bytes, how it usually gets there. */
export function unwantedInputs(metafile: Metafile): string[] {
  const found = new Map<(typeof UNWANTED)[number], { inputs: string[]; bytes: number }>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const unwanted = bytesInOutput > 0 ? UNWANTED.find((entry) => entry.module.test(input)) : undefined;
      if (!unwanted) continue;
      const entry = found.get(unwanted) ?? { inputs: [], bytes: 0 };
      entry.inputs.push(input);
      entry.bytes += bytesInOutput;
      found.set(unwanted, entry);
    }
  }
  return [...found].map(([{ why }, { inputs, bytes }]) => {
    const named = inputs.length > 3 ? `${inputs.slice(0, 3).join(", ")} and ${inputs.length - 3} more` : inputs.join(", ");
    return `${named} (${bytes} bytes): ${why}`;
  });
}
