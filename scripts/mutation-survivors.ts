/**
 * `npm run mutate:survivors [report.json]`: the mutants a StrykerJS run left alive, one line each —
 * file:line, mutator, the replaced text and its replacement — and the score per file, read from the
 * JSON report (`reports/mutation/mutation.json` unless named). What docs/mutation.md's tables are built
 * from: each survivor is then killed by a test or explained as equivalent.
 */
import { readFileSync } from "node:fs";

interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

const ALIVE = new Set(["Survived", "NoCoverage"]);
const DETECTED = new Set(["Killed", "Timeout"]);

const path = process.argv[2] ?? "reports/mutation/mutation.json";
const report = JSON.parse(readFileSync(path, "utf8")) as Report;

/** The source text a mutant replaces, on one line and at most 80 characters. */
function original(source: string, { start, end }: Mutant["location"]): string {
  const lines = source.split("\n").slice(start.line - 1, end.line);
  lines[lines.length - 1] = lines[lines.length - 1]!.slice(0, start.line === end.line ? end.column - 1 : end.column - 1);
  lines[0] = lines[0]!.slice(start.column - 1);
  return oneLine(lines.join("\n"));
}
const oneLine = (text: string) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
};

let detectedTotal = 0;
let validTotal = 0;
for (const [file, { source, mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const valid = mutants.filter((mutant) => DETECTED.has(mutant.status) || ALIVE.has(mutant.status));
  const detected = valid.filter((mutant) => DETECTED.has(mutant.status)).length;
  detectedTotal += detected;
  validTotal += valid.length;
  const alive = mutants.filter((mutant) => ALIVE.has(mutant.status)).sort((a, b) => a.location.start.line - b.location.start.line);
  const score = valid.length === 0 ? "n/a" : `${((100 * detected) / valid.length).toFixed(1)} %`;
  console.log(`${file}: ${score} (${detected} of ${valid.length} detected, ${alive.length} alive)`);
  for (const mutant of alive) {
    const where = `${file}:${mutant.location.start.line}:${mutant.location.start.column}`;
    console.log(`  ${where} ${mutant.status} ${mutant.mutatorName}: ${original(source, mutant.location)} → ${oneLine(mutant.replacement ?? "")}`);
  }
}
console.log(`total: ${validTotal === 0 ? "n/a" : ((100 * detectedTotal) / validTotal).toFixed(1)} % (${detectedTotal} of ${validTotal})`);
