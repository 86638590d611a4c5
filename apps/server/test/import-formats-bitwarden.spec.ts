import { describeFormatImports } from './import-formats-fixtures';

/**
 * Bitwarden JSON exports, plain and password-protected (every item type, custom fields of every kind, several URIs,
 * folders):
 * 5,000 records each, imported with `keyhaven import` and read back item by item with the real bw CLI
 * (import-formats-fixtures.ts). The formats are spread over four files of about the same length, so the test
 * runner runs them side by side: import-formats-{browsers,password-managers,bitwarden,structured}.spec.ts.
 */
describeFormatImports('keyhaven import of Bitwarden JSON exports', ['bitwarden', 'bitwarden-protected']);
