import { PackageURL } from "packageurl-js";
import yauzl from "yauzl";
import type { Cataloger, CatalogResult, ExtractInput, FileEntry } from "../../collect/index.ts";
import type { CollectProblem, Component, Location } from "../../model/index.ts";

const ARCHIVE_RE = /\.(jar|war|ear|jpi|hpi|par|sar|nar|kar|rar)$/i;
const MAX_ARCHIVE = 256 * 1024 * 1024;
const MAX_ENTRIES = 200_000;
const MAX_SMALL_FILE = 1024 * 1024;
const MAX_NESTED = 64 * 1024 * 1024;
const MAX_DEPTH = 2;

interface ZipItem {
  name: string;
  data: Buffer;
}

/** Reads the wanted members of a zip held in memory, bounded in entries and sizes (yauzl checks declared sizes). */
function readZip(buf: Buffer, want: (name: string, size: number) => boolean): Promise<ZipItem[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error("unreadable zip"));
      const items: ZipItem[] = [];
      let count = 0;
      zip.on("error", reject);
      zip.on("end", () => resolve(items));
      zip.on("entry", (entry: yauzl.Entry) => {
        if (++count > MAX_ENTRIES) {
          zip.close();
          return reject(new Error(`more than ${MAX_ENTRIES} entries`));
        }
        if (entry.fileName.endsWith("/") || !want(entry.fileName, entry.uncompressedSize)) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error("unreadable entry"));
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("error", reject);
          stream.on("end", () => {
            items.push({ name: entry.fileName, data: Buffer.concat(chunks) });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
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

async function catalogArchive(buf: Buffer, location: Location, via: string, depth: number, problems: CollectProblem[]): Promise<Component[]> {
  const items = await readZip(buf, (name, size) => {
    if (/^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(name)) return size <= MAX_SMALL_FILE;
    if (name === "META-INF/MANIFEST.MF") return size <= MAX_SMALL_FILE;
    return depth < MAX_DEPTH && ARCHIVE_RE.test(name) && size <= MAX_NESTED;
  });
  const components: Component[] = [];
  const poms = items.filter((i) => i.name.endsWith("pom.properties"));
  for (const pom of poms) {
    const p = parseProperties(pom.data.toString("utf8"));
    if (p.groupId && p.artifactId && p.version) components.push(mavenComponent(p.groupId, p.artifactId, p.version, location, `${via}!/${pom.name}`));
  }
  if (poms.length === 0) {
    const mf = items.find((i) => i.name === "META-INF/MANIFEST.MF");
    const m = mf ? parseManifest(mf.data.toString("utf8")) : {};
    const version = m["Implementation-Version"] ?? m["Bundle-Version"];
    const group = m["Implementation-Vendor-Id"];
    const artifact = m["Bundle-SymbolicName"]?.split(";")[0] ?? m["Implementation-Title"];
    if (group && artifact && version) components.push(mavenComponent(group, artifact, version, location, `${via}!/META-INF/MANIFEST.MF`));
  }
  for (const nested of items.filter((i) => ARCHIVE_RE.test(i.name))) {
    try {
      components.push(...(await catalogArchive(nested.data, location, `${via}!/${nested.name}`, depth + 1, problems)));
    } catch (e) {
      problems.push({ source: "java-archive", file: `${location.path}${via}!/${nested.name}`, message: (e as Error).message });
    }
  }
  return components;
}

/**
 * Java archives in an image (jar, war, ear and kin): Maven coordinates from each
 * `META-INF/maven/<group>/<artifact>/pom.properties`, else from MANIFEST.MF; archives nested one
 * level deep (Spring Boot's BOOT-INF/lib, WEB-INF/lib) are read too. Sizes and entry counts are bounded.
 */
export function javaArchiveCataloger(): Cataloger {
  return {
    name: "java-archive",
    fileRequired: (entry: FileEntry) => ARCHIVE_RE.test(entry.path) && entry.size <= MAX_ARCHIVE,
    async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
      const problems: CollectProblem[] = [];
      const location: Location = { path: `/${entry.path}`, ...(entry.layer ? { layer: entry.layer } : {}) };
      const components = await catalogArchive(contents, location, "", 0, problems);
      return problems.length ? { components, problems } : { components };
    },
  };
}
