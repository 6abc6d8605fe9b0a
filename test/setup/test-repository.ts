import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registration } from "../worker/support/registration";

/**
 * A programmable certificate repository for the worker tests, on 127.0.0.1: tests register what a
 * path answers (a chain, an error, a redirect, a slow or endless body) and read how often it was hit.
 *   POST /__register  {path, body?, bodyBase64?, status?, headers?, delayMs?, endless?, location?}
 *   GET  /__hits?path=/x.pem  → {"hits": n}
 */

export async function startTestRepository(): Promise<{ url: string; close(): Promise<void> }> {
  const routes = new Map<string, Registration>();
  const hits = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://repository");
    if (request.method === "POST" && url.pathname === "/__register") {
      let text = "";
      request.on("data", (chunk) => (text += chunk));
      request.on("end", () => {
        const registration = JSON.parse(text) as Registration;
        routes.set(registration.path, registration);
        hits.set(registration.path, 0);
        response.writeHead(204).end();
      });
      return;
    }
    if (url.pathname === "/__hits") {
      response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ hits: hits.get(url.searchParams.get("path") ?? "") ?? 0 }));
      return;
    }
    const route = routes.get(url.pathname);
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    if (!route) {
      response.writeHead(404).end();
      return;
    }
    const answer = () => {
      const headers: Record<string, string> = { "Content-Type": "application/pem-certificate-chain", ...route.headers };
      if (route.location) headers.Location = route.location;
      if (route.endless) {
        response.writeHead(route.status ?? 200, headers);
        const chunk = "A".repeat(16_384);
        const pump = () => {
          while (response.write(chunk)) {
            /* fill the socket buffer */
          }
        };
        response.on("drain", pump);
        response.on("close", () => response.off("drain", pump));
        pump();
        return;
      }
      response.writeHead(route.status ?? 200, headers).end(route.bodyBase64 !== undefined ? Buffer.from(route.bodyBase64, "base64") : (route.body ?? ""));
    };
    if (route.delayMs) setTimeout(answer, route.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
