import { describeFormatImports } from './import-formats-fixtures';

/**
 * The browsers' CSV exports (Chrome, Firefox without item names, Safari with otpauth URIs):
 * 5,000 records each, imported with `keyhaven import` and read back item by item with the real bw CLI
 * (import-formats-fixtures.ts). The formats are spread over four files of about the same length, so the test
 * runner runs them side by side: import-formats-{browsers,password-managers,bitwarden,structured}.spec.ts.
 */
describeFormatImports('keyhaven import of browser exports', ['chrome', 'firefox', 'safari']);
