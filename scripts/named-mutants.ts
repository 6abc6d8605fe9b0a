import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * `npm run mutate:named`: the mutants issue 18 names, each a trust decision deleted or weakened by a
 * textual patch, and the test that must go red for it. Stryker (`npm run mutate`) generates most of
 * them too, but not all (a prefix rule matched only at the trie's leaves is no operator swap), and a
 * named mutant must stay killed by its named test whatever Stryker's mutators become.
 *
 * The tree (tracked and unignored files) is copied to a temporary directory, so the working tree is
 * never mutated. There the named tests run once unmutated and must pass; then each mutant is applied
 * alone and its test, run alone, must fail. Exits 1 when a mutant survives or its patch no longer
 * applies (the code it deletes has changed: restate the patch).
 */
interface NamedMutant {
  name: string;
  file: string;
  /** Text that occurs exactly once in `file`, and what the mutant makes of it. */
  original: string;
  mutated: string;
  killedBy: { file: string; describe: string; test: string };
}

const MUTANTS: NamedMutant[] = [
  {
    name: "issuer signature not checked",
    file: "src/certificate/chain.ts",
    original: "if (!(await signatureVerifies(issued, issuer)))",
    mutated: "if (false)",
    killedBy: {
      file: "test/worker/verification/path-validation.test.ts",
      describe: "RFC 5280 §6.1.3(a)(1): each certificate's signature verifies with its issuer's key",
      test: "refuses a forged intermediate that copies the real one's name and key identifier but is signed by another key",
    },
  },
  {
    name: "issuer not required to be a CA",
    file: "src/certificate/chain.ts",
    original: 'if (!constraints?.ca) return "is not a CA',
    mutated: 'if (false) return "is not a CA',
    killedBy: {
      file: "test/worker/verification/path-validation.test.ts",
      describe: "RFC 5280 §6.1.4(k): every issuer is a CA",
      test: "refuses an intermediate whose basicConstraints say cA=FALSE",
    },
  },
  {
    name: "every CRL treated as direct",
    file: "src/certificate/revocation.ts",
    original: "const indirect = idp?.indirectCRL === true;",
    mutated: "const indirect = false;",
    killedBy: {
      file: "test/worker/verification/trust-and-revocation.test.ts",
      describe: "indirect CRLs: the IDP's indirectCRL and the certificate's cRLIssuer (RFC 5280 §5.2.5, §4.2.1.13)",
      test: "the STI-PA's indirect CRL revokes a leaf whose distribution point names the STI-PA as cRLIssuer",
    },
  },
  {
    name: "iat boundary > → >=",
    file: "src/verification/verify-identity.ts",
    original: "if (now - at > options.freshnessSeconds)",
    mutated: "if (now - at >= options.freshnessSeconds)",
    killedBy: {
      file: "test/worker/verification/freshness.test.ts",
      describe: "iat may be at most FRESHNESS_SECONDS old (RFC 8224 §6.2.2, §12.1)",
      test: "exactly 60 s old (the default) passes",
    },
  },
  {
    name: "future-skew check removed",
    file: "src/verification/verify-identity.ts",
    original: "if (at - now > options.futureSkewSeconds)",
    mutated: "if (false)",
    killedBy: {
      file: "test/worker/verification/freshness.test.ts",
      describe: "iat may be at most FUTURE_SKEW_SECONDS ahead of the verifier's clock (signer clock skew)",
      test: "61 s ahead fails",
    },
  },
  {
    name: "SIP Date check removed",
    file: "src/verification/verify-identity.ts",
    original: 'if (date !== null) judge("Date", date);',
    mutated: "",
    killedBy: {
      file: "test/worker/verification/freshness.test.ts",
      describe: "the SIP Date, when the call has one, is held to the same window as iat",
      test: "a Date 61 s old fails, though iat is fresh",
    },
  },
  {
    name: "prefix rules matched only at trie leaves",
    file: "src/numbering/pattern-index.ts",
    // The index walks the number's prefixes shortest first; keeping only the deepest one found is the leaf-only match.
    original: "if (underPrefix) appendAll(found, underPrefix);",
    mutated: "if (underPrefix) found.splice(0, found.length, ...underPrefix);",
    killedBy: {
      file: "test/worker/rules/criteria-combined.test.ts",
      describe: "a prefix rule covers every number under it, whatever longer prefixes other rules name",
      test: "a CLI under both a short and a longer prefix meets both rules",
    },
  },
  {
    name: "a rule's trunk criterion ignored when combined with a CLI",
    file: "src/rules/matcher.ts",
    original: "(trunk === undefined || trunk === subject.trunk) &&",
    mutated: "true &&",
    killedBy: {
      file: "test/worker/rules/criteria-combined.test.ts",
      describe: "a rule indexed under its CLI still holds every other criterion",
      test: "a CLI-and-trunk rule does not match the CLI arriving on another trunk",
    },
  },
];

const root = process.cwd();
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** How Vitest's JSON report names a test. */
const fullName = (test: NamedMutant["killedBy"]) => `${test.describe} ${test.test}`;
/** How `--testNamePattern` sees it (Vitest ≥ 5 joins suite and test with " > ", after the file's name). */
const namePattern = (test: NamedMutant["killedBy"]) => `${escapeRegExp(test.describe)} > ${escapeRegExp(test.test)}`;

interface AssertionResult {
  fullName: string;
  status: string;
}

/** Runs the named tests in `tree` (Vitest's JSON report) and returns each one's status by full name. */
function runTests(tree: string, tests: NamedMutant["killedBy"][]): Map<string, string> {
  const report = join(tree, "named-mutants-report.json");
  const pattern = `(?:${tests.map(namePattern).join("|")})$`;
  const files = [...new Set(tests.map((test) => test.file))];
  const run = spawnSync(
    join(tree, "node_modules/.bin/vitest"),
    ["run", "--config", "vitest.mutation.config.ts", ...files, "--testNamePattern", pattern, "--reporter", "json", "--outputFile", report],
    { cwd: tree, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  let results: { testResults: { assertionResults: AssertionResult[] }[] };
  try {
    results = JSON.parse(readFileSync(report, "utf8"));
  } catch {
    throw new Error(`vitest wrote no report (exit ${run.status}):\n${run.stderr.slice(-2000)}`);
  }
  rmSync(report);
  return new Map(results.testResults.flatMap((file) => file.assertionResults).map((result) => [result.fullName, result.status]));
}

/** A copy of the working tree's files (tracked and unignored), sharing node_modules. */
function copyTree(): string {
  const tree = mkdtempSync(join(tmpdir(), "named-mutants-"));
  const listed = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: root, encoding: "utf8" });
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    try {
      cpSync(join(root, file), join(tree, file), { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error; // deleted, not yet committed
    }
  }
  symlinkSync(join(root, "node_modules"), join(tree, "node_modules"));
  return tree;
}

function main(): number {
  const tree = copyTree();
  try {
    const baseline = runTests(tree, MUTANTS.map((mutant) => mutant.killedBy));
    const notPassing = MUTANTS.filter((mutant) => baseline.get(fullName(mutant.killedBy)) !== "passed");
    for (const mutant of notPassing) console.error(`unmutated, "${fullName(mutant.killedBy)}" is ${baseline.get(fullName(mutant.killedBy)) ?? "not found"}`);
    if (notPassing.length > 0) return 1;

    let survivors = 0;
    let notApplied = 0;
    for (const mutant of MUTANTS) {
      const path = join(tree, mutant.file);
      const source = readFileSync(path, "utf8");
      const occurrences = source.split(mutant.original).length - 1;
      if (occurrences !== 1) {
        console.error(`✗ NOT APPLIED  ${mutant.name}: ${occurrences} occurrences of ${JSON.stringify(mutant.original)} in ${mutant.file}, not 1`);
        notApplied++;
        continue;
      }
      writeFileSync(path, source.replace(mutant.original, mutant.mutated));
      const status = runTests(tree, [mutant.killedBy]).get(fullName(mutant.killedBy));
      writeFileSync(path, source);
      const killed = status === "failed";
      if (!killed) survivors++;
      console.log(`${killed ? "✓ killed" : "✗ SURVIVED"}  ${mutant.name}  (${mutant.file}) by ${mutant.killedBy.file} › ${mutant.killedBy.test}`);
    }
    console.log(`${MUTANTS.length - survivors - notApplied} of ${MUTANTS.length} named mutants killed; ${survivors} survived; ${notApplied} not applied`);
    return survivors === 0 && notApplied === 0 ? 0 : 1;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

process.exitCode = main();
