/**
 * A STAND-IN for a registry with the OCI distribution-spec 1.1 referrers API, on 127.0.0.1, in
 * memory. Debian has no registry with the API (docker-registry is distribution 2.8; zot and
 * distribution 3 are not packaged), so the referrers-API path is tested against this. It implements
 * the spec's endpoints that the client uses: blob uploads (POST, PATCH with Content-Range, closing PUT
 * with ?digest=, the digest checked), blob HEAD/GET, manifest PUT/GET/HEAD/DELETE (exact bytes stored,
 * `OCI-Subject` answered for a manifest with a subject), tags/list with `n`, `last` and the Link
 * header, and GET /v2/<name>/referrers/<digest> with the artifactType filter (`OCI-Filters-Applied`)
 * and pages linked by `Link: <…>; rel="next"`.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StandInOptions {
  /** Apply the artifactType filter (and say so); false: answer every referrer. */
  applyFilter?: boolean;
  /** Referrers per page (default: all on one page). */
  referrersPageSize?: number;
  /** Answer this OCI-Subject instead of the manifest's (a misbehaving registry). */
  forgeSubject?: string;
}

interface Repo {
  blobs: Map<string, Buffer>;
  uploads: Map<string, Buffer>;
  manifests: Map<string, { body: Buffer; mediaType: string }>;
  tags: Map<string, string>;
}

export interface StandIn {
  host: string;
  requests: string[];
  stop(): Promise<void>;
}

const sha256 = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

function error(res: ServerResponse, status: number, code: string): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] }));
}

export async function startStandIn(options: StandInOptions = {}): Promise<StandIn> {
  const repos = new Map<string, Repo>();
  const requests: string[] = [];
  const repo = (name: string): Repo => {
    let r = repos.get(name);
    if (!r) repos.set(name, (r = { blobs: new Map(), uploads: new Map(), manifests: new Map(), tags: new Map() }));
    return r;
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", "http://stand-in");
    const method = req.method ?? "GET";
    requests.push(`${method} ${url.pathname}${url.search}`);
    const m = /^\/v2\/(.+?)\/(blobs\/uploads\/([^/]*)|blobs\/([^/]+)|manifests\/([^/]+)|tags\/list|referrers\/([^/]+))$/.exec(url.pathname);
    if (!m) return error(res, 404, "NOT_FOUND");
    const r = repo(m[1] as string);
    const name = m[1] as string;
    if (m[2]?.startsWith("blobs/uploads/")) {
      const id = m[3] as string;
      if (method === "POST" && id === "") {
        const uuid = randomUUID();
        r.uploads.set(uuid, Buffer.alloc(0));
        res.writeHead(202, { location: `/v2/${name}/blobs/uploads/${uuid}`, range: "0-0" }).end();
        return;
      }
      const current = r.uploads.get(id);
      if (current === undefined) return error(res, 404, "BLOB_UPLOAD_UNKNOWN");
      if (method === "DELETE") {
        r.uploads.delete(id);
        res.writeHead(204).end();
        return;
      }
      const range = req.headers["content-range"];
      if (range !== undefined && body.length > 0) {
        const start = Number(/^(\d+)-\d+$/.exec(String(range))?.[1] ?? "-1");
        if (start !== current.length) return error(res, 416, "BLOB_UPLOAD_INVALID");
      }
      const next = Buffer.concat([current, body]);
      if (method === "PATCH") {
        r.uploads.set(id, next);
        res.writeHead(202, { location: `/v2/${name}/blobs/uploads/${id}`, range: `0-${next.length - 1}` }).end();
        return;
      }
      if (method === "PUT") {
        const digest = url.searchParams.get("digest");
        if (digest !== sha256(next)) return error(res, 400, "DIGEST_INVALID");
        r.uploads.delete(id);
        r.blobs.set(digest, next);
        res.writeHead(201, { location: `/v2/${name}/blobs/${digest}`, "docker-content-digest": digest }).end();
        return;
      }
      return error(res, 405, "UNSUPPORTED");
    }
    if (m[4] !== undefined) {
      const blob = r.blobs.get(m[4]);
      if (!blob) return error(res, 404, "BLOB_UNKNOWN");
      res.writeHead(200, { "content-length": String(blob.length), "docker-content-digest": m[4] }).end(method === "HEAD" ? undefined : blob);
      return;
    }
    if (m[5] !== undefined) {
      const ref = m[5];
      if (method === "PUT") {
        const digest = sha256(body);
        if (ref.includes(":") && ref !== digest) return error(res, 400, "DIGEST_INVALID");
        const mediaType = String(req.headers["content-type"] ?? "");
        r.manifests.set(digest, { body, mediaType });
        if (!ref.includes(":")) r.tags.set(ref, digest);
        const headers: Record<string, string> = { location: `/v2/${name}/manifests/${digest}`, "docker-content-digest": digest };
        const doc = JSON.parse(body.toString("utf8")) as { subject?: { digest?: string } };
        if (doc.subject?.digest) headers["oci-subject"] = options.forgeSubject ?? doc.subject.digest;
        res.writeHead(201, headers).end();
        return;
      }
      if (method === "DELETE") {
        if (!r.manifests.delete(ref)) return error(res, 404, "MANIFEST_UNKNOWN");
        for (const [t, d] of r.tags) if (d === ref) r.tags.delete(t);
        res.writeHead(202).end();
        return;
      }
      const digest = ref.includes(":") ? ref : r.tags.get(ref);
      const found = digest === undefined ? undefined : r.manifests.get(digest);
      if (!found || digest === undefined) return error(res, 404, "MANIFEST_UNKNOWN");
      res.writeHead(200, { "content-type": found.mediaType, "content-length": String(found.body.length), "docker-content-digest": digest }).end(method === "HEAD" ? undefined : found.body);
      return;
    }
    if (m[2] === "tags/list") {
      const all = [...r.tags.keys()].sort();
      const last = url.searchParams.get("last");
      const n = url.searchParams.has("n") ? Number(url.searchParams.get("n")) : all.length;
      const from = last === null ? all : all.filter((t) => t > last);
      const page = from.slice(0, n);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (page.length < from.length) headers.link = `</v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(page[page.length - 1] as string)}>; rel="next"`;
      res.writeHead(200, headers).end(JSON.stringify({ name, tags: page }));
      return;
    }
    // GET /v2/<name>/referrers/<digest>
    const subject = m[6] as string;
    if (!/^sha256:[a-f0-9]{64}$/.test(subject)) return error(res, 400, "DIGEST_INVALID");
    const artifactType = url.searchParams.get("artifactType");
    let list: Record<string, unknown>[] = [];
    for (const [digest, stored] of r.manifests) {
      const doc = JSON.parse(stored.body.toString("utf8")) as { subject?: { digest?: string }; artifactType?: string; config?: { mediaType?: string }; annotations?: Record<string, string> };
      if (doc.subject?.digest !== subject) continue;
      const at = doc.artifactType ?? doc.config?.mediaType;
      list.push({ mediaType: stored.mediaType, digest, size: stored.body.length, ...(at ? { artifactType: at } : {}), ...(doc.annotations ? { annotations: doc.annotations } : {}) });
    }
    const headers: Record<string, string> = { "content-type": "application/vnd.oci.image.index.v1+json" };
    if (artifactType !== null && options.applyFilter !== false) {
      list = list.filter((d) => d.artifactType === artifactType);
      headers["oci-filters-applied"] = "artifactType";
    }
    const size = options.referrersPageSize ?? (list.length || 1);
    const page = Number(url.searchParams.get("page") ?? "0");
    const slice = list.slice(page * size, (page + 1) * size);
    if ((page + 1) * size < list.length) {
      const next = new URLSearchParams(url.searchParams);
      next.set("page", String(page + 1));
      headers.link = `<${url.pathname}?${next.toString()}>; rel="next"`;
    }
    res.writeHead(200, headers).end(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: slice }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
