/**
 * Release scopes of the rpm distributions that OSV scopes by major release (`Red Hat:enterprise_linux:9::appstream`,
 * `AlmaLinux:9`, `Rocky Linux:8`): shared by their descriptors.
 */

/** The major release of an os-release VERSION_ID (`9.4` → `9`). */
export function rpmMajorRelease(versionId: string): string | undefined {
  return versionId.split(".")[0] || undefined;
}

/** Whether a record's scope names the component's major release (as a `:`/`_`-separated part, or `9.x`). */
export function rpmReleaseMatches(record: string, component: string): boolean {
  const major = component.split(".")[0] as string;
  return record.split(/[:_]/).some((part) => part === major || part.startsWith(`${major}.`));
}
