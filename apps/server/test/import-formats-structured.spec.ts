import { describeFormatImports } from './import-formats-fixtures';

/**
 * KeePass 2 XML (nested groups, protected strings, history) and 1Password 1PUX (vaults, sections, cards, identities,
 * trash):
 * 5,000 records each, imported with `keyhaven import` and read back item by item with the real bw CLI
 * (import-formats-fixtures.ts). The formats are spread over four files of about the same length, so the test
 * runner runs them side by side: import-formats-{browsers,password-managers,bitwarden,structured}.spec.ts.
 */
describeFormatImports('keyhaven import of KeePass 2 XML and 1Password 1PUX exports', ['keepass', '1password-1pux']);
