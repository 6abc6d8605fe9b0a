import { METRICS, type MetricName } from "./catalogue";
import type { SeriesValue } from "./store";

/** Prometheus text exposition format, version 0.0.4. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const HISTOGRAM_PARTS = ["_bucket", "_sum", "_count"] as const;

/** `le="0.25"` → 0.25, so buckets print in ascending order after the rest of their label set. */
function bucketOrder(labels: string): [string, number] {
  const le = /(?:^|,)le="([^"]+)"/.exec(labels)?.[1];
  return [labels.replace(/(?:^|,)le="[^"]+"/, ""), le === undefined ? 0 : le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le)];
}

function compareSeries(a: SeriesValue, b: SeriesValue): number {
  const [restA, leA] = bucketOrder(a.labels);
  const [restB, leB] = bucketOrder(b.labels);
  return restA.localeCompare(restB) || leA - leB;
}

const line = ({ name, labels, value }: SeriesValue) => `${name}${labels ? `{${labels}}` : ""} ${value}`;

/** Every family of the catalogue with its HELP and TYPE, followed by the series stored for it. */
export function renderExposition(sums: SeriesValue[]): string {
  const byName = new Map<string, SeriesValue[]>();
  for (const series of sums) byName.set(series.name, [...(byName.get(series.name) ?? []), series]);
  const lines: string[] = [];
  for (const [name, family] of Object.entries(METRICS) as [MetricName, (typeof METRICS)[MetricName]][]) {
    lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
    const seriesNames = family.type === "histogram" ? HISTOGRAM_PARTS.map((part) => `${name}${part}`) : [name];
    for (const seriesName of seriesNames) lines.push(...(byName.get(seriesName) ?? []).sort(compareSeries).map(line));
  }
  return `${lines.join("\n")}\n`;
}
