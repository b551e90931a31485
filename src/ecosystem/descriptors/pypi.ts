import { defineEcosystem } from "../types.ts";
import { comparePypi } from "../version/pypi.ts";

/** A Python package name as PEP 503 normalises it (`Flask_SQLAlchemy` → `flask-sqlalchemy`). */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** Python packages (PyPI): PEP 440 order; names as PEP 503 normalises them. */
export const pypi = defineEcosystem({
  name: "PyPI",
  compare: comparePypi,
  purl: { type: "pypi" },
  packageName: normalizePythonName,
  dependabot: ["pip"],
});
