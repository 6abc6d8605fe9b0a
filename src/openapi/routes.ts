import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import type { AppEnv } from "../api/app-env";
import { openApiDocument } from "./document";
import { renderReferencePage } from "./reference-page";

/** `GET /openapi.json` and `GET /docs`: the document generated from `app`, and its reference page. Public, like any API description. */
export function openApiRoutes(app: Hono<AppEnv>): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.get(
    "/openapi.json",
    describeRoute({ tags: ["Operations"], summary: "This OpenAPI 3.1 document", responses: { 200: { description: "The document", content: { "application/json": {} } } } }),
    async (c) => c.json(await openApiDocument(app)),
  );
  routes.get(
    "/docs",
    describeRoute({ tags: ["Operator UI"], summary: "API reference page", description: "The OpenAPI document rendered as HTML, without scripts.", responses: { 200: { description: "HTML", content: { "text/html": {} } } } }),
    async (c) => c.html(renderReferencePage(await openApiDocument(app)), 200, { "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'" }),
  );
  return routes;
}
