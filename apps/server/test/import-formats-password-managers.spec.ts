import { describeFormatImports } from './import-formats-fixtures';

/**
 * The password managers' CSV exports: LastPass (grouping paths, favourites, NoteType cards and addresses, plain
 * secure notes) and 1Password (extra columns as custom fields):
 * 5,000 records each, imported with `keyhaven import` and read back item by item with the real bw CLI
 * (import-formats-fixtures.ts). The formats are spread over four files of about the same length, so the test
 * runner runs them side by side: import-formats-{browsers,password-managers,bitwarden,structured}.spec.ts.
 */
describeFormatImports('keyhaven import of LastPass and 1Password CSV exports', ['lastpass', '1password-csv']);
