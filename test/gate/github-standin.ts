/**
 * A STAND-IN for the GitHub REST API, on 127.0.0.1, for tests only: GitHub cannot run here. It
 * implements just the issue endpoints tollgate uses, with the request and response shapes of
 * https://docs.github.com/en/rest/issues (list repository issues by label, create, comment, update
 * state), and can inject rate-limit and server errors to exercise the retries.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface StandinIssue {
  number: number;
  title: string;
  body: string;
  labels: string[];
  state: "open" | "closed";
  state_reason?: string | null;
  comments: string[];
}

export interface StandinRequest {
  method: string;
  path: string;
  authorization?: string;
}

export class GitHubStandin {
  readonly issues: StandinIssue[] = [];
  readonly requests: StandinRequest[] = [];
  /** Responses to inject for the next matching requests: e.g. { method: "POST", status: 403, headers: {...} }. */
  readonly failures: { method: string; pathIncludes?: string; status: number; headers?: Record<string, string>; message?: string }[] = [];
  /** Requests matching these get no answer at all (a stalled API), until stop(). */
  readonly silent: { method: string; pathIncludes?: string }[] = [];
  /** The next request matching one of these calls `arrived`, then is answered once `release` settles (one use each). */
  readonly holds: { method: string; pathIncludes?: string; arrived: () => void; release: Promise<void> }[] = [];
  private readonly open = new Set<Socket>();
  private server: Server | undefined;
  private repo = "";
  url = "";

  async start(repository: string): Promise<void> {
    this.repo = repository;
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (sock) => {
      this.open.add(sock);
      sock.on("close", () => this.open.delete(sock));
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    for (const sock of this.open) sock.destroy();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(JSON.stringify(body));
  }

  private view(i: StandinIssue): Record<string, unknown> {
    return {
      id: 1000 + i.number,
      number: i.number,
      title: i.title,
      body: i.body,
      state: i.state,
      state_reason: i.state_reason ?? null,
      labels: i.labels.map((name) => ({ name })),
      html_url: `https://github.example/${this.repo}/issues/${i.number}`,
      comments: i.comments.length,
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push({ method: req.method ?? "", path: url.pathname, authorization: req.headers.authorization });
    let raw = "";
    for await (const chunk of req) raw += String(chunk);
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    if (this.silent.some((f) => f.method === req.method && (!f.pathIncludes || url.pathname.includes(f.pathIncludes)))) return;
    const held = this.holds.findIndex((f) => f.method === req.method && (!f.pathIncludes || url.pathname.includes(f.pathIncludes)));
    if (held >= 0) {
      const h = this.holds.splice(held, 1)[0]!;
      h.arrived();
      await h.release;
    }
    const fail = this.failures.findIndex((f) => f.method === req.method && (!f.pathIncludes || url.pathname.includes(f.pathIncludes)));
    if (fail >= 0) {
      const f = this.failures.splice(fail, 1)[0]!;
      this.json(res, f.status, { message: f.message ?? (f.status === 403 ? "API rate limit exceeded" : f.status === 401 ? "Bad credentials" : "Server Error") }, f.headers);
      return;
    }
    const base = `/repos/${this.repo}/issues`;
    if (req.method === "GET" && url.pathname === base) {
      const labels = (url.searchParams.get("labels") ?? "").split(",").filter(Boolean);
      const state = url.searchParams.get("state") ?? "open";
      const list = this.issues.filter((i) => (state === "all" || i.state === state) && labels.every((l) => i.labels.includes(l)));
      // Pagination as GitHub does it: per_page (max 100), page, and a Link header to the next page.
      const perPage = Math.min(Number(url.searchParams.get("per_page") ?? 30), 100);
      const page = Number(url.searchParams.get("page") ?? 1);
      const slice = list.slice((page - 1) * perPage, page * perPage);
      const headers: Record<string, string> = {};
      if (page * perPage < list.length) {
        const next = new URL(url);
        next.searchParams.set("page", String(page + 1));
        headers.link = `<${next.toString()}>; rel="next"`;
      }
      this.json(res, 200, slice.map((i) => this.view(i)), headers);
      return;
    }
    if (req.method === "POST" && url.pathname === base) {
      const issue: StandinIssue = { number: this.issues.length + 1, title: String(body.title), body: String(body.body ?? ""), labels: (body.labels as string[] | undefined) ?? [], state: "open", comments: [] };
      this.issues.push(issue);
      this.json(res, 201, this.view(issue));
      return;
    }
    const m = url.pathname.startsWith(`${base}/`) ? /^\/(\d+)(\/comments)?$/.exec(url.pathname.slice(base.length)) : null;
    const issue = m ? this.issues.find((i) => i.number === Number(m[1])) : undefined;
    if (!m || !issue) {
      this.json(res, 404, { message: "Not Found" });
      return;
    }
    if (issue && m?.[2] && req.method === "POST") {
      issue.comments.push(String(body.body));
      this.json(res, 201, { id: issue.comments.length, body: body.body });
      return;
    }
    if (issue && !m?.[2] && req.method === "PATCH") {
      if (body.state === "open" || body.state === "closed") issue.state = body.state;
      if (typeof body.state_reason === "string") issue.state_reason = body.state_reason;
      this.json(res, 200, this.view(issue));
      return;
    }
    this.json(res, 404, { message: `stand-in: ${req.method} ${url.pathname} is not implemented` });
  }
}
