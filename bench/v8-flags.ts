/**
 * `npm run bench:v8-flags`: the V8 flags in effect inside workerd, as V8 itself prints them, for the
 * garbage collector's settings behind the latency tail (BENCHMARKS.md). Runs a trivial Worker on the
 * installed workerd with `--print-flag-values` and prints the collector's lines. Extra flags to try go
 * after `--` (`npm run bench:v8-flags -- --incremental-marking`): the output shows whether workerd kept them.
 */
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare, type V4MiniflareOptions } from "miniflare";

const COLLECTOR = /^--(?:no-)?(?:incremental-marking|concurrent-marking|parallel-marking|concurrent-sweeping|memory-reducer|single-threaded|single-threaded-gc|minor-ms|max-old-space-size|max-semi-space-size)(?:=|$)/;

const tried = process.argv.slice(2);
process.env.MINIFLARE_WORKERD_V8_FLAGS = [...tried, "--print-flag-values"].join(" ");
const printed: string[] = [];
const miniflare = new Miniflare(
  convertV4MiniflareOptions({
    name: "flags",
    modules: true,
    script: "export default { fetch() { return new Response('ok'); } };",
    compatibilityDate: "2025-01-01",
    cf: { colo: "FLAGS" }, // no fetch of the real Request.cf from the network
    log: new Log(LogLevel.WARN),
    handleStructuredLogs: ({ message }: { message: string }) => void printed.push(...message.split("\n")),
  } as V4MiniflareOptions),
);
try {
  await miniflare.ready;
  await (await miniflare.dispatchFetch("http://flags/")).text();
} finally {
  await miniflare.dispose();
}
const collector = printed.map((line) => line.trim()).filter((line) => COLLECTOR.test(line));
if (collector.length === 0) throw new Error("workerd printed no V8 flag values: was --print-flag-values passed through?");
console.log(tried.length > 0 ? `asked for: ${tried.join(" ")}` : "workerd's defaults:");
for (const line of collector) console.log(`  ${line}`);
