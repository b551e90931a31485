import type { Cataloger } from "../../collect/index.ts";
import type { Component } from "../../model/index.ts";
import { parseOsRelease, type OsContext } from "./os-context.ts";

/**
 * /etc/os-release (or /usr/lib/os-release, its usual target): the distro for OS package purls and
 * matching. When the walk ends it completes the packages every OS cataloger of the image found
 * (`OsContext.finalize`: they all read during the walk) and returns the image's OS facts
 * (`OsContext.imageProperties`) for the metadata component.
 */
export function osReleaseCataloger(ctx: OsContext): Cataloger {
  return {
    name: "os-release",
    fileRequired: (entry) => (entry.path === "etc/os-release" || entry.path === "usr/lib/os-release") && entry.size < 64 * 1024,
    async extract({ entry, contents }) {
      const d = parseOsRelease(contents.toString("utf8"), entry.path);
      if (!d) return { components: [], problems: [{ source: "os-release", file: entry.path, message: "no ID= line" }] };
      const first = ctx.distro === undefined;
      ctx.setDistro(d);
      if (!first) return { components: [] };
      const os: Component = {
        ref: `os:${d.id}@${d.versionId ?? "unknown"}`,
        name: d.id,
        type: "operating-system",
        hashes: [],
        licenses: [],
        locations: [{ path: `/${entry.path}`, ...(entry.layer ? { layer: entry.layer } : {}) }],
        dependencies: [],
        foundBy: "os-release",
        properties: { "tollgate:os:prettyName": d.prettyName ?? d.id, ...(d.versionCodename ? { "tollgate:os:codename": d.versionCodename } : {}) },
      };
      if (d.versionId) os.version = d.versionId;
      return { components: [os] };
    },
    async finish() {
      ctx.finalize();
      const properties = ctx.imageProperties();
      return Object.keys(properties).length > 0 ? { components: [], targetProperties: properties } : { components: [] };
    },
  };
}
