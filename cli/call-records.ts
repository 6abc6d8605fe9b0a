import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { CliInputError } from "./command";

/**
 * Call records read for `calls replay`, one at a time from a stream (readline), so a file of any size
 * is held one line at a time. Two formats:
 *
 * - CSV (RFC 4180 quoting, one record per line) with a header naming the columns `time, from, to,
 *   trunk, carrier, international, identity` (identity may be left out; several Identity header
 *   values in one cell are joined by ` | `);
 * - JSON Lines: one `/v1/verdict` JSON call per line, plus `time`.
 *
 * Either way a record becomes the JSON body `/v1/verdict` would receive, and the caller normalises it
 * as the Worker does. A line that cannot be read is a record with the problem, never the end of the run.
 */
export type CallRecordFormat = "csv" | "jsonl";

/** `read`: the characters read up to the record's end (progress against the file's size; equal to bytes for ASCII). */
export type CallRecord = ({ body: Record<string, unknown>; time: unknown } | { problem: string }) & { line: number; read: number };

export const CSV_COLUMNS = ["time", "from", "to", "trunk", "carrier", "international", "identity"] as const;
type CsvColumn = (typeof CSV_COLUMNS)[number];
const REQUIRED_COLUMNS: readonly CsvColumn[] = CSV_COLUMNS.filter((column) => column !== "identity");
/** How the CSV's `identity` cell separates several Identity header values. */
const IDENTITY_SEPARATOR = " | ";

/** The format named by --format, else by the file's extension. */
export function recordFormatOf(path: string, format: string | undefined): CallRecordFormat {
  if (format !== undefined) {
    if (format !== "csv" && format !== "jsonl") throw new CliInputError(`--format must be csv or jsonl, got ${JSON.stringify(format)}`);
    return format;
  }
  if (/\.csv$/i.test(path)) return "csv";
  if (/\.(jsonl|ndjson)$/i.test(path)) return "jsonl";
  throw new CliInputError(`${path}: cannot tell the format from the extension (.csv, .jsonl); give --format csv or --format jsonl`);
}

/**
 * The fields of one CSV record (RFC 4180 §2: fields optionally in double quotes, `""` for a quote
 * inside). A record is one line: a line break inside quotes, or text after a closing quote, is an error.
 */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let at = 0;
  for (;;) {
    if (line[at] === '"') {
      let value = "";
      let index = at + 1;
      for (;;) {
        const quote = line.indexOf('"', index);
        if (quote === -1) throw new Error("a quoted field is not closed on its line");
        value += line.slice(index, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          index = quote + 2;
          continue;
        }
        at = quote + 1;
        break;
      }
      fields.push(value);
      if (at === line.length) return fields;
      if (line[at] !== ",") throw new Error(`unexpected text after a quoted field at column ${at + 1}`);
      at++;
    } else {
      const comma = line.indexOf(",", at);
      const value = comma === -1 ? line.slice(at) : line.slice(at, comma);
      if (value.includes('"')) throw new Error(`a quote inside an unquoted field at column ${at + 1 + value.indexOf('"')}`);
      fields.push(value);
      if (comma === -1) return fields;
      at = comma + 1;
    }
  }
}

/** Where each column is in the file's header; a missing required or an unknown column stops the run (it is the file, not a line). */
function csvHeader(path: string, line: string): Map<CsvColumn, number> {
  let names: string[];
  try {
    names = splitCsvLine(line.replace(/^\uFEFF/, "")).map((name) => name.trim());
  } catch (error) {
    throw new CliInputError(`${path}: line 1 (the header): ${(error as Error).message}`);
  }
  const columns = new Map<CsvColumn, number>();
  for (const [index, name] of names.entries()) {
    if (!(CSV_COLUMNS as readonly string[]).includes(name)) throw new CliInputError(`${path}: unknown column ${JSON.stringify(name)} in the header; the columns are ${CSV_COLUMNS.join(",")}`);
    if (columns.has(name as CsvColumn)) throw new CliInputError(`${path}: column ${name} is named twice in the header`);
    columns.set(name as CsvColumn, index);
  }
  const missing = REQUIRED_COLUMNS.filter((column) => !columns.has(column));
  if (missing.length > 0) throw new CliInputError(`${path}: the header has no ${missing.join(", ")} column; it must be ${CSV_COLUMNS.join(",")} (identity may be left out)`);
  return columns;
}

/** The `/v1/verdict` JSON body of a CSV record: empty cells are absent, as an SBC leaves out what it does not know. */
function csvRecord(columns: Map<CsvColumn, number>, fields: string[]): { body: Record<string, unknown>; time: unknown } {
  if (fields.length !== columns.size) throw new Error(`${fields.length} fields where the header has ${columns.size}`);
  const cell = (column: CsvColumn) => {
    const index = columns.get(column);
    const value = index === undefined ? "" : fields[index]!.trim();
    return value === "" ? undefined : value;
  };
  const international = cell("international");
  const identity = cell("identity");
  const ingress = { trunk: cell("trunk"), carrier: cell("carrier"), international: international === "true" ? true : international === "false" ? false : international };
  return {
    time: cell("time"),
    body: {
      from: cell("from"),
      to: cell("to"),
      ...(Object.values(ingress).some((value) => value !== undefined) ? { ingress } : {}),
      ...(identity ? { identity: identity.split(IDENTITY_SEPARATOR).map((value) => value.trim()) } : {}),
    },
  };
}

function jsonRecord(line: string): { body: Record<string, unknown>; time: unknown } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error("not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not a JSON object (a /v1/verdict call plus time)");
  const { time, ...body } = value as Record<string, unknown>;
  return { body, time };
}

/** Every record of the file, in file order; blank lines are skipped. A missing or unreadable file is bad input (exit 2). */
export async function* readCallRecords(path: string, format: CallRecordFormat): AsyncGenerator<CallRecord> {
  try {
    if (!(await stat(path)).isFile()) throw new CliInputError(`${path}: not a file (--input)`);
  } catch (error) {
    if (error instanceof CliInputError) throw error;
    throw new CliInputError(`${path}: cannot be read (--input): ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let header: Map<CsvColumn, number> | null = null;
  let number = 0;
  let read = 0;
  for await (const text of lines) {
    number++;
    read += text.length + 1;
    if (text.trim() === "") continue;
    if (format === "csv" && header === null) {
      header = csvHeader(path, text);
      continue;
    }
    try {
      yield { line: number, read, ...(format === "csv" ? csvRecord(header!, splitCsvLine(text)) : jsonRecord(text)) };
    } catch (error) {
      yield { line: number, read, problem: (error as Error).message };
    }
  }
  if (format === "csv" && header === null) throw new CliInputError(`${path}: empty; a CSV of calls starts with the header ${CSV_COLUMNS.join(",")}`);
}
