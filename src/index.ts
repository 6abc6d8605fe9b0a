import "./lib/reflect-metadata";
import { Hono } from "hono";
import { X509Certificate } from "@peculiar/x509";
import { Parser } from "sip.js/lib/core/messages/parser.js";
import * as jose from "jose";

const app = new Hono<{ Bindings: Env }>();
app.get("/healthz", (c) => c.json({ ok: true, x509: typeof X509Certificate, parser: typeof Parser.parseMessage, jose: typeof jose.compactVerify }));
export default app;
