import { defineEcosystem } from "../types.ts";
import { compareCran } from "../version/semver.ts";

/** R packages (CRAN): R's package_version order. */
export const cran = defineEcosystem({
  name: "CRAN",
  compare: compareCran,
  purl: { type: "cran" },
});
