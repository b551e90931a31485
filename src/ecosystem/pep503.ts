/** A Python package name as PEP 503 normalises it (`Flask_SQLAlchemy` → `flask-sqlalchemy`): how PyPI, OSV and the Python catalogers compare names. */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}
