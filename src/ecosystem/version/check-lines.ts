import { InputError, UsageError } from "../../errors.ts";
import { ECOSYSTEM_NAMES, versionComparator } from "../registry.ts";

const OPS: Record<string, number> = { "<": -1, "=": 0, ">": 1 };
const OP_OF: Record<number, string> = { [-1]: "<", 0: "=", 1: ">" };

/** `A op B` lines checked against the ecosystem's order: the lines that disagree, as `A op B (computed A op' B)`. */
export function checkComparisonLines(ecosystem: string, text: string): { checked: number; disagreements: string[] } {
  const cmp = versionComparator(ecosystem);
  if (!cmp) throw new UsageError(`--ecosystem ${ecosystem}: no version order (known: ${ECOSYSTEM_NAMES.join(", ")})`);
  const disagreements: string[] = [];
  let checked = 0;
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === "" || line.startsWith("# ") || line.startsWith("// ")) return;
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 3 || OPS[parts[1]!] === undefined) throw new InputError(`expected \`A op B\` with op one of <, =, >, got ${JSON.stringify(line)}`, { file: "<stdin>", line: i + 1 });
    checked++;
    const [a, op, b] = parts as [string, string, string];
    const got = cmp(a, b);
    if (got !== OPS[op]) disagreements.push(`${a} ${op} ${b} (computed ${a} ${OP_OF[got]} ${b})`);
  });
  return { checked, disagreements };
}
