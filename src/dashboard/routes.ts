import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import uplotStyles from "uplot/dist/uPlot.min.css?raw";
import uplotScript from "uplot/dist/uPlot.iife.min.js?raw";
import type { AppEnv } from "../api/app-env";
import { nativeError } from "../api/native-errors";
import dashboardStyles from "./assets/dashboard.css?raw";
import page from "./assets/dashboard.html?raw";
import dashboardScript from "./assets/dashboard.js?raw";

/**
 * `GET /dashboard`: the analysts' console. The page and its files are public and hold no data; every
 * figure comes from the operator API with the token the analyst types in (kept in sessionStorage for
 * the tab, sent as Bearer), or, behind Cloudflare Access, with the assertion Access adds to each
 * request. The CSP allows nothing but this origin.
 */
export const dashboardRoutes = new Hono<AppEnv>();

const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const ASSETS = new Map([
  ["dashboard.js", { body: dashboardScript, type: "text/javascript; charset=utf-8" }],
  ["dashboard.css", { body: dashboardStyles, type: "text/css; charset=utf-8" }],
  ["uplot.js", { body: uplotScript, type: "text/javascript; charset=utf-8" }],
  ["uplot.css", { body: uplotStyles, type: "text/css; charset=utf-8" }],
]);

dashboardRoutes.get(
  "/",
  describeRoute({ tags: ["Operator UI"], summary: "The dashboard", description: "An HTML page; log in with an operator token, or through Cloudflare Access.", responses: { 200: { description: "HTML", content: { "text/html": {} } } } }),
  (c) => c.html(page, 200, { "Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache" }),
);

dashboardRoutes.get(
  "/assets/:file",
  describeRoute({ tags: ["Operator UI"], summary: "The dashboard's script, stylesheet and charting library", responses: { 200: { description: "JavaScript or CSS" }, 404: { description: "No such file" } } }),
  (c) => {
    const asset = ASSETS.get(c.req.param("file"));
    if (!asset) return nativeError(404, "ERR_NOT_FOUND", `no dashboard file ${c.req.param("file")}`);
    return c.body(asset.body, 200, { "Content-Type": asset.type, "Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff" });
  },
);
