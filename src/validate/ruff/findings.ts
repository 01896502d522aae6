import type { Finding } from '../report.js';
import type { RuffDiagnostic } from './ruff-protocol.js';

/** A Ruff diagnostic as a report finding; `message` overrides Ruff's text (the security stage prefixes a level). */
export function diagnosticFinding(path: string, d: RuffDiagnostic & { code: string }, severity: Finding['severity'], message = d.message): Finding {
  return {
    path,
    line: d.start_location.row,
    column: d.start_location.column,
    endLine: d.end_location.row,
    rule: d.code,
    message,
    severity,
  };
}
