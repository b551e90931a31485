import type { TollgateConfig } from "../config/index.ts";
import { ImageFs, resolveImage, DEFAULT_IMAGE_LIMITS, type ImageSourceOptions, type ImageTarget } from "../image/index.ts";
import type { LintConfig, LintFinding, LintResult } from "./engine.ts";
import { IMAGE_RULES, type ImageConfigView, type ImageFileContext, type ImageRule, type ImageRuleHit } from "./image-rules.ts";

/**
 * `tollgate lint image`: what only a built image shows (its config and its files), read with the
 * image reader (no daemon, nothing unpacked to disk). Rule ids are `TG-IMG-###`.
 */

/** At most this many findings per rule, so a pathological image cannot flood the report. */
const MAX_PER_RULE = 500;

function lintSection(config: TollgateConfig | Partial<LintConfig> | undefined): Partial<LintConfig> {
  if (config === undefined) return {};
  return "lint" in config && typeof config.lint === "object" ? (config as TollgateConfig).lint : (config as Partial<LintConfig>);
}

/**
 * Lints a built image: config User, Healthcheck and Env, and every file's mode and name (setuid,
 * world-writable, credentials). Findings about the config have `file: "image config"`; findings
 * about files name the path inside the image. `line` is 0 (no line applies).
 */
export async function lintImage(target: ImageTarget, config?: TollgateConfig | Partial<LintConfig>, options: ImageSourceOptions = {}): Promise<LintResult> {
  const c = lintSection(config);
  const ignored = new Set(c.ignore ?? []);
  const overrides = c.severity ?? {};
  const findings: LintFinding[] = [];
  const counts = new Map<string, number>();
  const add = (rule: ImageRule, hit: ImageRuleHit): void => {
    const override = overrides[rule.id];
    if (ignored.has(rule.id) || override === "off") return;
    const n = (counts.get(rule.id) ?? 0) + 1;
    counts.set(rule.id, n);
    if (n > MAX_PER_RULE) return;
    findings.push({ ruleId: rule.id, severity: override ?? rule.severity, file: hit.file, line: 0, message: hit.message ?? rule.message, refs: [...rule.refs], fix: rule.fix });
  };

  const image = await resolveImage(target, options);
  const imageConfig = (image.config.config ?? {}) as ImageConfigView;
  for (const rule of IMAGE_RULES) for (const hit of rule.checkConfig?.(imageConfig) ?? []) add(rule, hit);

  // One walk of the squashed filesystem for every file rule.
  const fileRules = IMAGE_RULES.filter((r) => r.checkFile !== undefined);
  const fs = new ImageFs(image, { ...DEFAULT_IMAGE_LIMITS, ...options.limits });
  for await (const entry of fs.walk()) {
    const file: ImageFileContext = { entry, read: (maxBytes) => fs.readFile(entry.path, maxBytes) };
    for (const rule of fileRules) for (const hit of await rule.checkFile!(file)) add(rule, hit);
  }
  findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.ruleId < b.ruleId ? -1 : 1));
  return { findings, files: [image.description] };
}
