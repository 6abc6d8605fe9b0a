/** One time series: a metric's (or histogram part's) name and its label set. */
export type Labels = Readonly<Record<string, string>>;

/** Prometheus text format §"Comment, help text, and type information": `\`, `"` and newline are escaped in label values. */
const escapeLabelValue = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** `action="block",check="x5u.fetch"`: sorted, so one label set always renders (and is stored) the same way. */
export function renderLabels(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((name) => `${name}="${escapeLabelValue(labels[name]!)}"`)
    .join(",");
}
