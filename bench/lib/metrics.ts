import { adminHeaders } from "./fixtures";

/** A Prometheus exposition's values, by `name{labels}` as the line prints them. */
export type Exposition = Map<string, number>;

export function parseExposition(text: string): Exposition {
  const values: Exposition = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** The product's `GET /metrics`, which flushes the answering isolate's counts first (the bench's workerd runs one isolate). */
export async function scrapeMetrics(url: string): Promise<Exposition> {
  const response = await fetch(`${url}/metrics`, { headers: adminHeaders });
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  return parseExposition(await response.text());
}
