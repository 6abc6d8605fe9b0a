import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AddressInfo } from "node:net";

export interface CertificateRepositoryOptions {
  dir: string;
  port: number;
  host: string;
}

export interface RunningRepository {
  /** Base URL, e.g. http://127.0.0.1:8788 ; a chain is at `${url}/sp.pem`. */
  url: string;
  close(): Promise<void>;
}

/** One path segment naming a .pem file: no traversal out of the directory. */
const CHAIN_PATH = /^\/([A-Za-z0-9._-]+\.pem)$/;

/**
 * A development certificate repository: serves the PEM chains in `dir` the way an STI-CR does,
 * `application/pem-certificate-chain` (RFC 8555 §9.1) with a day of caching (ATIS-1000074 floor).
 */
export async function startCertificateRepository(options: CertificateRepositoryOptions): Promise<RunningRepository> {
  const server = createServer(async (request, response) => {
    const match = CHAIN_PATH.exec(new URL(request.url ?? "/", "http://repository").pathname);
    if (request.method !== "GET" || !match?.[1] || match[1].startsWith(".")) {
      response.writeHead(request.method === "GET" ? 404 : 405).end();
      return;
    }
    try {
      const body = await readFile(join(options.dir, match[1]));
      response.writeHead(200, { "Content-Type": "application/pem-certificate-chain", "Cache-Control": "max-age=86400", "Content-Length": body.length }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`,
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
