import type { Hono } from "hono";
import { generateSpecs } from "hono-openapi";
import type { OpenAPIV3_1 } from "openapi-types";
import type { AppEnv } from "../api/app-env";
import { SECURITY_SCHEMES } from "./shared";

/**
 * The OpenAPI 3.1 document, generated from the application's routes: each route's describeRoute
 * middleware and validators give its operation, and the zod schemas the handlers validate with give
 * the request bodies. Generated once per application.
 */
const documents = new WeakMap<object, Promise<OpenAPIV3_1.Document>>();

export function openApiDocument(app: Hono<AppEnv>): Promise<OpenAPIV3_1.Document> {
  let document = documents.get(app);
  if (!document) {
    document = generateSpecs(app, {
      documentation: {
        openapi: "3.1.0",
        info: {
          title: "shaken-edge",
          version: "0.1.0",
          description:
            "STIR/SHAKEN verification (ATIS-1000082) and caller-ID spoofing verdicts for SBCs, with the operators' API: rules, fraud reports, traceback statistics, recent verdicts and metrics.",
        },
        components: { securitySchemes: SECURITY_SCHEMES },
        tags: [
          { name: "SBC", description: "What SBCs call for each INVITE" },
          { name: "Admin", description: "Analysts and operators: rules, audit log, configuration, roaming table, recent verdicts" },
          { name: "Reports", description: "Fraud reports and the rules made from them" },
          { name: "Statistics", description: "Traceback statistics" },
          { name: "Operations", description: "Health, metrics, this document" },
          { name: "Operator UI", description: "The dashboard and the API reference page" },
        ],
      },
      // /openapi.json is a route like any other, not a static file.
      excludeStaticFile: false,
    }) as Promise<OpenAPIV3_1.Document>;
    documents.set(app, document);
  }
  return document;
}
