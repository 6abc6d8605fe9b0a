import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { OpenAPIV3_1 } from "openapi-types";

/**
 * The API reference page: the OpenAPI document rendered on the server as plain HTML, one section per
 * operation. No script and no CDN, so it works where the verifier runs without internet access.
 */
const METHODS = ["get", "put", "post", "delete", "patch"] as const;

const json = (value: unknown) => JSON.stringify(value, null, 2);

type Operation = OpenAPIV3_1.OperationObject;

function operationSection(path: string, method: string, operation: Operation): HtmlEscapedString | Promise<HtmlEscapedString> {
  const parameters = (operation.parameters ?? []) as OpenAPIV3_1.ParameterObject[];
  const body = operation.requestBody as OpenAPIV3_1.RequestBodyObject | undefined;
  const responses = Object.entries(operation.responses ?? {}) as [string, OpenAPIV3_1.ResponseObject][];
  const security = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
  return html`<section id="${operation.operationId ?? `${method}-${path}`}">
    <h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>
    <p><strong>${operation.summary ?? ""}</strong></p>
    ${operation.description ? html`<p>${operation.description}</p>` : ""}
    ${security.length ? html`<p class="auth">Authentication: ${security.join(" or ")}</p>` : html`<p class="auth">No authentication</p>`}
    ${parameters.length
      ? html`<table><tr><th>Parameter</th><th>In</th><th>Required</th><th>Description</th></tr>${parameters.map(
          (parameter) => html`<tr><td><code>${parameter.name}</code></td><td>${parameter.in}</td><td>${parameter.required ? "yes" : "no"}</td><td>${parameter.description ?? ""}</td></tr>`,
        )}</table>`
      : ""}
    ${body ? Object.entries(body.content).map(([media, content]) => html`<details><summary>Request body (${media})</summary><pre>${json(content.schema ?? {})}</pre></details>`) : ""}
    <ul class="responses">${responses.map(([status, response]) => html`<li><code>${status}</code> ${response.description ?? ""}</li>`)}</ul>
  </section>`;
}

export function renderReferencePage(document: OpenAPIV3_1.Document): HtmlEscapedString | Promise<HtmlEscapedString> {
  const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const operation = item?.[method];
      return operation ? [{ path, method, operation }] : [];
    }),
  );
  const tags = [...new Set(operations.map(({ operation }) => operation.tags?.[0] ?? "Other"))];
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${document.info.title} API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${raw(PAGE_STYLE)}</style></head>
<body><header><h1>${document.info.title} ${document.info.version} &mdash; API reference</h1>
<p>${document.info.description ?? ""}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${document.openapi}).</p></header>
<main>${tags.map(
    (tag) => html`<h2>${tag}</h2>${operations.filter(({ operation }) => (operation.tags?.[0] ?? "Other") === tag).map(({ path, method, operation }) => operationSection(path, method, operation))}`,
  )}</main></body></html>`;
}

const PAGE_STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem 2rem;color:#1d2430}
h2{border-bottom:2px solid #dde3ea;margin-top:2.5rem}section{border:1px solid #dde3ea;border-radius:6px;padding:.25rem 1rem;margin:1rem 0}
.method{display:inline-block;min-width:4.5em;text-align:center;border-radius:4px;color:#fff;font-size:.8em;padding:.1em .4em}
.get{background:#2b6cb0}.post{background:#2f855a}.put{background:#b7791f}.delete{background:#c53030}.patch{background:#6b46c1}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eef1f4;text-align:left;padding:.2rem .5rem;vertical-align:top}
pre{background:#f6f8fa;padding:.5rem;overflow:auto;font-size:.85em}.auth{color:#555;font-size:.9em}`;
