/**
 * modified_id.csv is read with a count and a limit (issue 11, item 10): a mirror that sends an endless
 * chunked body (no Content-Length) made `db update` read it whole into memory before checking its size.
 * A local stand-in on 127.0.0.1 streams 32 MiB in 64 KiB chunks; the client must stop near the limit.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LimitExceededError } from "../../src/errors.ts";
import { updateVulnDb } from "../../src/vulndb/update.ts";
import { tempDir } from "../helpers.ts";

const CHUNK = Buffer.from(`${"2024-01-01T00:00:00Z,GHSA-aaaa-bbbb-cccc\n".repeat(1600)}`); // ~64 KiB
const TOTAL_CHUNKS = 512; // ~32 MiB

describe("db update: modified_id.csv over the limit", () => {
  let server: Server;
  let base = "";
  let sent = 0;
  let finished = false;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url !== "/npm/modified_id.csv") {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "text/csv" }); // chunked: no Content-Length
      let n = 0;
      const pump = (): void => {
        while (n < TOTAL_CHUNKS) {
          n++;
          sent += CHUNK.length;
          if (!res.write(CHUNK)) {
            res.once("drain", pump);
            return;
          }
        }
        finished = true;
        res.end();
      };
      res.on("close", () => undefined);
      pump();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test("stops reading at the limit with a LimitExceededError naming the file", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await assert.rejects(
        updateVulnDb({ dbPath: join(dir, "vulns.db"), ecosystems: ["npm"], baseUrl: base, maxModifiedCsvBytes: 1024 * 1024, env: { XDG_CACHE_HOME: dir }, attempts: 1 }),
        (e: unknown) => e instanceof LimitExceededError && /modified_id\.csv: more than 1048576 bytes/.test(e.message),
      );
      assert.equal(finished, false, "the client stopped before the server had sent everything");
      assert.ok(sent < TOTAL_CHUNKS * CHUNK.length / 2, `sent ${sent} bytes`);
    } finally {
      await cleanup();
    }
  });
});
