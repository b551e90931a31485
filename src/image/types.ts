import { DEFAULT_OCI_LIMITS, type OciLimits } from "../oci/types.ts";

/** Size limits for everything an image reader decodes: the OCI readers' limits and the catalogers'. */
export interface ImageLimits extends OciLimits {
  /** Java archives: largest nested archive read out of its parent (held in memory while it is read). */
  maxJavaNestedBytes: number;
  /** Java archives: decompressed bytes read out of one archive together with the archives nested in it. */
  maxJavaArchiveDecompressedBytes: number;
  /** Java archives: decompressed bytes read out of all the Java archives of the image. */
  maxJavaDecompressedBytes: number;
  /** Java archives: deepest nesting read (2: a jar in a jar in a war). */
  maxJavaDepth: number;
  /** rpm: most rows read from an rpmdb's Packages table. */
  maxRpmRows: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  ...DEFAULT_OCI_LIMITS,
  maxJavaNestedBytes: 64 * 1024 * 1024,
  maxJavaArchiveDecompressedBytes: 1024 * 1024 * 1024,
  maxJavaDecompressedBytes: 8 * 1024 * 1024 * 1024,
  maxJavaDepth: 2,
  maxRpmRows: 200_000,
};
