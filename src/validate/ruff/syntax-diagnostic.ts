/** A syntax error, which the syntax stage reports with Python's own parser. (No zod here: Ruff's worker imports it.) */
export function isSyntaxDiagnostic(diagnostic: { readonly code: string | null }): boolean {
  return diagnostic.code === null || diagnostic.code === 'invalid-syntax';
}
