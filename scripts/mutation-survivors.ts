/**
 * `npm run mutate:survivors [report.json]`: the mutants a StrykerJS run left alive, one line each —
 * id, file:line, mutator, the replaced text and its replacement — and the score per file, read from the
 * JSON report (`reports/mutation/mutation.json` unless named). What docs/mutation.md's tables are built
 * from: each survivor is then killed by a test or explained as equivalent.
 *
 * `npm run mutate:survivors -- [report.json] --apply <id>` writes that mutant into the working tree's
 * source file (undo with `git checkout -- <file>`), so that a new test can be watched going red under
 * `npm test`'s own isolation.
 */
import { readFileSync, writeFileSync } from "node:fs";

interface Mutant {
  id: string;
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

const args = process.argv.slice(2);
const applyAt = args.indexOf("--apply");
const applyId = applyAt >= 0 ? args.splice(applyAt, 2)[1] : undefined;
const path = args[0] ?? "reports/mutation/mutation.json";
const report = JSON.parse(readFileSync(path, "utf8")) as Report;

/** Offset of a 1-based line and column in `source`. */
function offsetOf(source: string, { line, column }: { line: number; column: number }): number {
  let offset = 0;
  for (let current = 1; current < line; current++) offset = source.indexOf("\n", offset) + 1;
  return offset + column - 1;
}

if (applyId !== undefined) {
  const found = Object.entries(report.files).flatMap(([file, { source, mutants }]) => mutants.filter((mutant) => mutant.id === applyId).map((mutant) => ({ file, source, mutant })))[0];
  if (!found) {
    console.error(`no mutant ${applyId} in ${path}`);
    process.exit(2);
  }
  const { file, source, mutant } = found;
  const start = offsetOf(source, mutant.location.start);
  const end = offsetOf(source, mutant.location.end);
  const replaced = source.slice(start, end);
  const current = readFileSync(file, "utf8");
  // The file may have moved on since the run (a line added above): the replaced text is looked for
  // within 20 lines of where the report saw it, and must occur there exactly once.
  const lineOf = (text: string, offset: number) => text.slice(0, offset).split("\n").length;
  const candidates: number[] = [];
  for (let at = current.indexOf(replaced); at >= 0; at = current.indexOf(replaced, at + 1)) {
    if (Math.abs(lineOf(current, at) - mutant.location.start.line) <= 20) candidates.push(at);
  }
  // Several: the one in the same column on the nearest line (the line itself unchanged, moved down or up).
  const columnOf = (offset: number) => offset - current.lastIndexOf("\n", offset - 1);
  const sameColumn = candidates.filter((at) => columnOf(at) === mutant.location.start.column);
  const distance = (at: number) => Math.abs(lineOf(current, at) - mutant.location.start.line);
  const nearest = sameColumn.filter((at) => distance(at) === Math.min(...sameColumn.map(distance)));
  const exact = current === source ? [start] : candidates.length === 1 ? candidates : nearest;
  if (exact.length !== 1) {
    console.error(`${file}: the text mutant ${applyId} replaces occurs ${exact.length} times near line ${mutant.location.start.line}; apply it by hand`);
    process.exit(2);
  }
  const at = exact[0]!;
  writeFileSync(file, current.slice(0, at) + (mutant.replacement ?? "") + current.slice(at + replaced.length));
  console.log(`applied mutant ${applyId} to ${file}:${lineOf(current, at)} (${mutant.mutatorName}); undo with git checkout -- ${file}`);
  process.exit(0);
}

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
    console.log(`  #${mutant.id} ${where} ${mutant.status} ${mutant.mutatorName}: ${original(source, mutant.location)} → ${oneLine(mutant.replacement ?? "")}`);
  }
}
console.log(`total: ${validTotal === 0 ? "n/a" : ((100 * detectedTotal) / validTotal).toFixed(1)} % (${detectedTotal} of ${validTotal})`);
