import { normalizePythonName } from "../pep503.ts";
import { defineEcosystem } from "../types.ts";
import { comparePypi } from "../version/pypi.ts";

/** Python packages (PyPI): PEP 440 order; names as PEP 503 normalises them. */
export const pypi = defineEcosystem({
  name: "PyPI",
  compare: comparePypi,
  purl: { type: "pypi" },
  packageName: normalizePythonName,
  dependabot: ["pip"],
});
