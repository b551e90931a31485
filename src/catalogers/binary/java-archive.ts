import { PackageURL } from "packageurl-js";
import yauzl from "yauzl";
import type { Cataloger, CatalogResult, ExtractInput, FileEntry } from "../../collect/index.ts";
import type { CollectProblem, Component, Location } from "../../model/index.ts";

const ARCHIVE_RE = /\.(jar|war|ear|jpi|hpi|par|sar|nar|kar|rar)$/i;
const POM_RE = /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/;
const MANIFEST = "META-INF/MANIFEST.MF";
const MAX_SMALL_FILE = 1024 * 1024;
/** Problems listed for one archive; more are counted in one last problem (an archive of 200,000 broken jars). */
const MAX_PROBLEMS = 100;

/**
 * Bounds on reading Java archives. An archive is read from memory (the file the walk offers); a nested
 * archive is read out of its parent into memory, one at a time and only up to `maxNestedBytes`, so at
 * most one nested archive per level is held. Every decompressed byte counts against the archive's
 * budget and the image's: a nested-jar zip bomb stops at a limit, reported as a problem.
 */
export interface JavaArchiveLimits {
  /** Largest archive read. */
  maxArchiveBytes: number;
  /** Largest nested archive read out of its parent (held in memory while it is read). */
  maxNestedBytes: number;
  /** Deepest nesting read: 2 reads a jar in a jar in a war, and reports one nested deeper. */
  maxDepth: number;
  /** Most entries in one archive. */
  maxEntries: number;
  /** Decompressed bytes read out of one archive together with the archives nested in it. */
  maxArchiveDecompressedBytes: number;
  /** Decompressed bytes read out of all the Java archives of one image (one cataloger). */
  maxImageDecompressedBytes: number;
}

export const DEFAULT_JAVA_ARCHIVE_LIMITS: JavaArchiveLimits = {
  maxArchiveBytes: 256 * 1024 * 1024,
  maxNestedBytes: 64 * 1024 * 1024,
  maxDepth: 2,
  maxEntries: 200_000,
  maxArchiveDecompressedBytes: 1024 * 1024 * 1024,
  maxImageDecompressedBytes: 8 * 1024 * 1024 * 1024,
};

/** A decompression budget ran out: it ends the archive (or, for the image's, every later archive). */
class BudgetExceeded extends Error {}

/** Decompressed bytes of one archive (with its nested ones) and of the image's archives so far. */
class Budget {
  private archive = 0;
  private readonly limits: JavaArchiveLimits;
  private readonly image: { bytes: number };

  constructor(limits: JavaArchiveLimits, image: { bytes: number }) {
    this.limits = limits;
    this.image = image;
  }

  add(n: number): void {
    this.archive += n;
    this.image.bytes += n;
    if (this.image.bytes > this.limits.maxImageDecompressedBytes) throw new BudgetExceeded(imageSpent(this.limits));
    if (this.archive > this.limits.maxArchiveDecompressedBytes) {
      throw new BudgetExceeded(
        `the archive and the archives nested in it hold more than ${this.limits.maxArchiveDecompressedBytes} decompressed bytes (limit per Java archive; a zip bomb?); the rest of it is not read`,
      );
    }
  }
}

function imageSpent(limits: JavaArchiveLimits): string {
  return `the Java archives of this image decompress to more than ${limits.maxImageDecompressedBytes} bytes (limit for all Java archives of an image; a zip bomb?); the rest of this archive and later archives are not read`;
}

/**
 * Reads one entry into a buffer of its declared size (the caller has checked that size against its
 * cap), counting each decompressed chunk against the budget; yauzl fails an entry whose data is longer
 * or shorter than declared.
 */
async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, budget: Budget): Promise<Buffer> {
  const stream = await zip.openReadStreamPromise(entry);
  const out = Buffer.alloc(entry.uncompressedSize);
  let filled = 0;
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      stream.destroy();
      reject(e);
    };
    stream.on("data", (chunk: Buffer) => {
      if (failed) return;
      try {
        budget.add(chunk.length);
      } catch (e) {
        fail(e as Error);
        return;
      }
      if (filled + chunk.length > out.length) {
        fail(new Error(`${entry.fileName}: more data than its declared ${entry.uncompressedSize} bytes`));
        return;
      }
      chunk.copy(out, filled);
      filled += chunk.length;
    });
    stream.on("error", fail);
    stream.on("end", () => {
      if (!failed) resolve(filled === out.length ? out : out.subarray(0, filled));
    });
  });
}

interface ArchiveContext {
  limits: JavaArchiveLimits;
  budget: Budget;
  location: Location;
  components: Component[];
  problems: CollectProblem[];
  /** Problems past MAX_PROBLEMS, counted. */
  unlisted: number;
}

function report(ctx: ArchiveContext, file: string, message: string): void {
  if (ctx.problems.length < MAX_PROBLEMS) ctx.problems.push({ source: "java-archive", file, message });
  else ctx.unlisted++;
}

function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    const m = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (m) out[m[1] as string] = (m[2] as string).trim();
  }
  return out;
}

/** MANIFEST.MF main section: "Key: value" with 72-column continuation lines. */
function parseManifest(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    if (line.startsWith(" ") && last) out[last] += line.slice(1);
    else {
      const colon = line.indexOf(":");
      if (colon > 0) {
        last = line.slice(0, colon).trim();
        out[last] = line.slice(colon + 1).trim();
      }
    }
  }
  return out;
}

function mavenComponent(group: string, artifact: string, version: string, location: Location, via: string): Component {
  const purl = new PackageURL("maven", group, artifact, version, null, null).toString();
  return {
    ref: `${purl}#${location.path}${via}`,
    name: `${group}:${artifact}`,
    version,
    purl,
    ecosystem: "Maven",
    type: "library",
    hashes: [],
    licenses: [],
    locations: [location],
    dependencies: [],
    foundBy: "java-archive",
  };
}

/**
 * Reads one archive's entries in order: pom.properties and MANIFEST.MF (small files) for coordinates,
 * nested archives one at a time (each read into memory, catalogued, and dropped before the next).
 * Components go to `ctx.components` as found, so that what was read before a budget ran out is kept.
 */
async function catalogArchive(buf: Buffer, via: string, depth: number, ctx: ArchiveContext): Promise<void> {
  const { limits, location } = ctx;
  const zip = await yauzl.fromBufferPromise(buf, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false });
  let count = 0;
  let poms = 0;
  let manifest: Buffer | undefined;
  for await (const entry of zip.eachEntry()) {
    if (++count > limits.maxEntries) throw new Error(`more than ${limits.maxEntries} entries`);
    const name = entry.fileName;
    if (name.endsWith("/")) continue;
    const inner = `${location.path}${via}!/${name}`;
    if (POM_RE.test(name) || name === MANIFEST) {
      if (entry.uncompressedSize > MAX_SMALL_FILE) {
        report(ctx, inner, `${entry.uncompressedSize} bytes is over the limit of ${MAX_SMALL_FILE} bytes; not read`);
        continue;
      }
      const data = await readEntry(zip, entry, ctx.budget);
      if (name === MANIFEST) {
        manifest = data;
        continue;
      }
      poms++;
      const p = parseProperties(data.toString("utf8"));
      if (p.groupId && p.artifactId && p.version) ctx.components.push(mavenComponent(p.groupId, p.artifactId, p.version, location, `${via}!/${name}`));
    } else if (ARCHIVE_RE.test(name)) {
      if (depth >= limits.maxDepth) {
        report(ctx, inner, `nested deeper than ${limits.maxDepth} archives; not read`);
        continue;
      }
      if (entry.uncompressedSize > limits.maxNestedBytes) {
        report(ctx, inner, `${entry.uncompressedSize} bytes is over the limit of ${limits.maxNestedBytes} bytes for a nested archive; not read`);
        continue;
      }
      try {
        await catalogArchive(await readEntry(zip, entry, ctx.budget), `${via}!/${name}`, depth + 1, ctx);
      } catch (e) {
        if (e instanceof BudgetExceeded) throw e;
        report(ctx, inner, (e as Error).message);
      }
    }
  }
  if (poms === 0 && manifest) {
    const m = parseManifest(manifest.toString("utf8"));
    const version = m["Implementation-Version"] ?? m["Bundle-Version"];
    const group = m["Implementation-Vendor-Id"];
    const artifact = m["Bundle-SymbolicName"]?.split(";")[0] ?? m["Implementation-Title"];
    if (group && artifact && version) ctx.components.push(mavenComponent(group, artifact, version, location, `${via}!/${MANIFEST}`));
  }
}

/**
 * Java archives in an image (jar, war, ear and kin): Maven coordinates from each
 * `META-INF/maven/<group>/<artifact>/pom.properties`, else from MANIFEST.MF; archives nested in them
 * (Spring Boot's BOOT-INF/lib, WEB-INF/lib), two levels deep by default, are read too. Sizes, entries,
 * nesting and decompressed bytes (per archive and for all the archives of the image this cataloger
 * serves) are bounded; every limit hit is a problem, never a silent gap.
 */
export function javaArchiveCataloger(options: Partial<JavaArchiveLimits> = {}): Cataloger {
  const limits: JavaArchiveLimits = { ...DEFAULT_JAVA_ARCHIVE_LIMITS, ...options };
  const image = { bytes: 0 };
  return {
    name: "java-archive",
    fileRequired: (entry: FileEntry) => ARCHIVE_RE.test(entry.path),
    async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
      const location: Location = { path: `/${entry.path}`, ...(entry.layer ? { layer: entry.layer } : {}) };
      const ctx: ArchiveContext = { limits, budget: new Budget(limits, image), location, components: [], problems: [], unlisted: 0 };
      if (contents.length > limits.maxArchiveBytes) {
        report(ctx, location.path, `${contents.length} bytes is over the limit of ${limits.maxArchiveBytes} bytes for a Java archive; not read`);
      } else if (image.bytes > limits.maxImageDecompressedBytes) {
        report(ctx, location.path, imageSpent(limits));
      } else {
        try {
          await catalogArchive(contents, "", 0, ctx);
        } catch (e) {
          if (!(e instanceof BudgetExceeded)) throw e;
          ctx.problems.push({ source: "java-archive", file: location.path, message: e.message });
        }
      }
      if (ctx.unlisted > 0) ctx.problems.push({ source: "java-archive", file: location.path, message: `${ctx.unlisted} more problems in this archive are not listed` });
      return ctx.problems.length ? { components: ctx.components, problems: ctx.problems } : { components: ctx.components };
    },
  };
}
