/**
 * The bench's certificate repository (an STI-CR stand-in), run as its own process so that serving
 * chains does not compete with the load generator's event loop. It answers every GET of a `.pem`
 * path with the same chain (so each fresh URL is a fresh x5u to the verifier) and counts hits per
 * path, which is how S3 shows one fetch per x5u however many calls need it at once.
 *   GET  /<anything>.pem  → the chain (application/pem-certificate-chain, a day of caching)
 *   GET  /__stats         → {paths, hits, maxHitsPerPath}; ?prefix=/herd- counts only the paths starting so
 *   POST /__reset         → forget the counts
 * Started by bench/lib/repository.ts with the chain in BENCH_CHAIN_PEM; prints its port when listening.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const chain = process.env.BENCH_CHAIN_PEM ?? "";
const hits = new Map<string, number>();

const server = createServer((request, response) => {
  const url = new URL(request.url ?? "/", "http://repository");
  const path = url.pathname;
  if (path === "/__stats") {
    const prefix = url.searchParams.get("prefix") ?? "/";
    const counts = [...hits].filter(([hitPath]) => hitPath.startsWith(prefix)).map(([, count]) => count);
    const stats = { paths: counts.length, hits: counts.reduce((sum, n) => sum + n, 0), maxHitsPerPath: Math.max(0, ...counts) };
    response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(stats));
    return;
  }
  if (path === "/__reset" && request.method === "POST") {
    hits.clear();
    response.writeHead(204).end();
    return;
  }
  if (request.method !== "GET" || !path.endsWith(".pem")) {
    response.writeHead(404).end();
    return;
  }
  hits.set(path, (hits.get(path) ?? 0) + 1);
  response
    .writeHead(200, { "Content-Type": "application/pem-certificate-chain", "Cache-Control": "max-age=86400", "Content-Length": Buffer.byteLength(chain) })
    .end(chain);
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
// The bench holds our stdin open: when it ends (or dies), so do we.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
