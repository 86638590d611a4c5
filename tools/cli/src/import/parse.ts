import type { SymmetricKey } from '@keyhaven/vault-crypto';
import type { ImportFormat, ParseResult } from './model';
import { parseBitwarden } from './formats/bitwarden';
import { parseKeePass } from './formats/keepass';
import { parseLastPass } from './formats/lastpass';
import { CHROME, FIREFOX, ONEPASSWORD_CSV, SAFARI, parseLoginCsv } from './formats/login-csv';
import { parseOnePux } from './formats/onepux';

export interface ParseContext {
  filePassword(): Promise<string>;
  userKey: SymmetricKey | null;
}

/** Reads an export file of the given format into plaintext items (in memory) and the records it could not read. */
export async function parseExport(format: ImportFormat, data: Buffer, context: ParseContext): Promise<ParseResult> {
  switch (format) {
    case 'lastpass':
      return parseLastPass(data);
    case 'bitwarden':
      return parseBitwarden(data, context);
    case '1password-1pux':
      return parseOnePux(data);
    case '1password-csv':
      return parseLoginCsv(data, ONEPASSWORD_CSV);
    case 'keepass':
      return parseKeePass(data);
    case 'chrome':
      return parseLoginCsv(data, CHROME);
    case 'firefox':
      return parseLoginCsv(data, FIREFOX);
    case 'safari':
      return parseLoginCsv(data, SAFARI);
  }
}
