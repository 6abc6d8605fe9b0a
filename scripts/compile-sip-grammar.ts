import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileRuleFunctions } from "./sip-grammar-rules";

/**
 * `npm run generate:sip-grammar`: writes src/sip/grammar/compiled.js, sip.js's own generated SIP
 * grammar (peggy output, `lib/grammar/pegjs/dist/grammar.js`) with its tables built once per isolate
 * and its rules compiled to functions.
 *
 * Why: the generated `peg$parse` declares its constant table (~460 entries: literals, regular
 * expressions, expectation objects, action closures) and decodes the bytecode of all ~230 rules
 * inside the function, so every `Grammar.parse` rebuilt them before reading a single character:
 * 140–220 µs per call whatever the input, three calls per INVITE (BENCHMARKS.md).
 *
 * What changes:
 * - The scope. `peg$parse` becomes a closure created once. The per-call state it declared (`input`,
 *   `options`, positions, failure tracking, the start rule) becomes variables of that closure, and
 *   the returned function resets them on every call. Parsing is synchronous and no action parses
 *   again, so a call never sees another call's state.
 * - The rule interpreter. Its bytecode is translated into one function per rule, instruction for
 *   instruction (scripts/sip-grammar-rules.ts, issue 19): interpreting it was most of an INVITE's parse.
 * The grammar, its constants, its actions and its errors are sip.js's, byte for byte.
 *
 * Each rewrite is anchored on text that must occur exactly once; when sip.js's output changes shape,
 * this script fails instead of writing something else. `test/node/sip/compiled-grammar.test.ts` checks
 * that the committed file is what this script writes from the installed sip.js, and that it parses
 * exactly as sip.js's `Grammar.parse` does.
 */
const require = createRequire(import.meta.url);
const SOURCE = join(dirname(require.resolve("sip.js/package.json")), "lib/grammar/pegjs/dist/grammar.js");
export const COMPILED_GRAMMAR = join(dirname(fileURLToPath(import.meta.url)), "..", "src/sip/grammar/compiled.js");

function replaceOnce(text: string, anchor: string, replacement: string): string {
  const at = text.indexOf(anchor);
  if (at === -1 || text.indexOf(anchor, at + 1) !== -1) {
    throw new Error(`sip.js's grammar no longer has exactly one ${JSON.stringify(anchor.slice(0, 80))}: review scripts/compile-sip-grammar.ts against the installed sip.js`);
  }
  return text.slice(0, at) + replacement + text.slice(at + anchor.length);
}

const PER_CALL_STATE = `    let peg$currPos = 0;
    let peg$savedPos = 0;
    const peg$posDetailsCache = [{ line: 1, column: 1 }];
    let peg$maxFailPos = 0;
    let peg$maxFailExpected = [];
    let peg$silentFails = 0;
    let peg$result;
`;

const START_RULE = `    if (options.startRule !== undefined) {
        if (!(options.startRule in peg$startRuleIndices)) {
            throw new Error("Can't start parsing from rule \\"" + options.startRule + "\\".");
        }
        peg$startRuleIndex = peg$startRuleIndices[options.startRule];
    }
`;

const DATA_RESET = "    options.data = {}; // Object to which header attributes will be assigned during parsing\n";

const RUN = "    peg$result = peg$parseRule(peg$startRuleIndex);\n";

const indent = (block: string) => block.replace(/^(?=.)/gm, "    ");

/** The text from `start` to `end` (both included, occurring once), and what lies between them. */
function between(text: string, start: string, end: string): { whole: string; inner: string } {
  const from = text.indexOf(start);
  const to = from === -1 ? -1 : text.indexOf(end, from);
  if (from === -1 || to === -1 || text.indexOf(start, from + 1) !== -1) {
    throw new Error(`sip.js's grammar no longer has exactly one ${JSON.stringify(start.trim())}: review scripts/compile-sip-grammar.ts against the installed sip.js`);
  }
  return { whole: text.slice(from, to + end.length), inner: text.slice(from + start.length, to) };
}

/** The rules' bytecode, as sip.js's `peg$decode` reads its string literals (each character's code minus 32). */
function decodeBytecode(literals: string): number[][] {
  const decode = (s: string) => [...s].map((ch) => ch.charCodeAt(0) - 32);
  // The literals are JavaScript string literals written by peggy; evaluating them is how their escapes are read.
  return new Function("peg$decode", `return [${literals}];`)(decode) as number[][];
}

export function compileSipGrammar(source: string, version: string): string {
  const defaultRule = /\n    let peg\$startRuleIndex = (\d+);\n/.exec(source)?.[1];
  if (defaultRule === undefined) throw new Error("sip.js's grammar has no default start rule: review scripts/compile-sip-grammar.ts");
  const runFrom = source.indexOf(RUN);
  const end = "\n}\nexport const parse = peg$parse;\n";
  if (runFrom === -1 || !source.endsWith(end)) throw new Error("sip.js's grammar does not end as expected: review scripts/compile-sip-grammar.ts");
  // A caller that only needs where the input stopped matching (src/sip/grammar/index.ts) sets
  // `options.offsetOnly`: the grammar's furthest failure is left in `options.failedAt` and nothing is
  // thrown. Building the SyntaxError (its message describes every expectation, its stack is captured)
  // was four fifths of reading a tel: URI, which the grammar refuses once before reading it as a SIP URI.
  const run = replaceOnce(
    source.slice(runFrom, source.length - end.length + 1),
    "        throw peg$buildStructuredError(peg$maxFailExpected,",
    "        if (options.offsetOnly === true) {\n            options.failedAt = peg$maxFailPos;\n            return undefined;\n        }\n        throw peg$buildStructuredError(peg$maxFailExpected,",
  );

  let text = source.slice(0, runFrom) + "__RUN__" + end;
  // Its relative imports (the NameAddrHeader and URI classes the actions build) name sip.js's own modules.
  for (const module of ["name-addr-header.js", "uri.js"]) {
    text = replaceOnce(text, ` from "../../${module}";`, ` from "sip.js/lib/grammar/${module}";`);
  }
  text = replaceOnce(
    text,
    "function peg$parse(input, options) {\n    options = options !== undefined ? options : {};\n    const peg$FAILED = {};\n    const peg$source = options.grammarSource;\n",
    "const peg$parse = (function buildOnce() {\n    let input;\n    let options;\n    let peg$source;\n    const peg$FAILED = {};\n",
  );
  text = replaceOnce(
    text,
    PER_CALL_STATE + START_RULE,
    "    let peg$currPos;\n    let peg$savedPos;\n    let peg$posDetailsCache;\n    let peg$maxFailPos;\n    let peg$maxFailExpected;\n    let peg$silentFails;\n    let peg$result;\n",
  );
  text = replaceOnce(text, DATA_RESET, "");
  // The bytecode interpreter becomes one function per rule (scripts/sip-grammar-rules.ts); the bytecode
  // itself is then read only here, at generation time.
  const bytecode = between(text, "    const peg$bytecode = [\n", "\n    ];\n");
  text = replaceOnce(text, bytecode.whole, "");
  const interpreter = between(text, "    function peg$parseRule(index) {\n", "\n        return stack[0];\n    }\n");
  text = replaceOnce(text, interpreter.whole, compileRuleFunctions(decodeBytecode(bytecode.inner)));
  const perCall = [
    "    return function peg$parse(input1, options1) {\n",
    "        input = input1;\n",
    "        options = options1 !== undefined ? options1 : {};\n",
    "        peg$source = options.grammarSource;\n",
    `        peg$startRuleIndex = ${defaultRule};\n`,
    indent(PER_CALL_STATE.replace("const peg$posDetailsCache", "peg$posDetailsCache").replace(/^    let /gm, "    ").replace("    peg$result;\n", "    peg$result = undefined;\n")),
    indent(START_RULE),
    indent(DATA_RESET),
    indent(run),
    "    };\n",
    "})();",
  ].join("");
  text = replaceOnce(text, "__RUN__\n}", perCall);
  const header = [
    "// GENERATED by `npm run generate:sip-grammar` (scripts/compile-sip-grammar.ts) from",
    `// sip.js ${version}, lib/grammar/pegjs/dist/grammar.js: the same grammar, with its tables built once`,
    "// per isolate instead of on every parse and its rules' bytecode compiled to functions. Do not edit;",
    "// regenerate after upgrading sip.js.",
    "",
  ].join("\n");
  return header + text;
}

export function compiledFromInstalledSipJs(): string {
  const version = (JSON.parse(readFileSync(require.resolve("sip.js/package.json"), "utf8")) as { version: string }).version;
  return compileSipGrammar(readFileSync(SOURCE, "utf8"), version);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(COMPILED_GRAMMAR, compiledFromInstalledSipJs());
  console.log(`wrote ${COMPILED_GRAMMAR}`);
}
