import { defineEcosystem } from "../types.ts";
import { compareCran } from "../version/semver.ts";

/** R packages (Bioconductor): R's package_version order. */
export const bioconductor = defineEcosystem({
  name: "Bioconductor",
  compare: compareCran,
});
