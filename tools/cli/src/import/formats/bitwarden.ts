import { createHash, pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import * as argon2 from 'argon2';
import {
  CARD_FIELDS,
  IDENTITY_FIELDS,
  SSH_KEY_FIELDS,
  decryptCipher,
  decryptFolderName,
  decryptType2Utf8,
  hkdfExpand,
  SymmetricKey,
  type EncryptedCipher,
  type FieldType,
  type PlainCipher,
} from '@keyhaven/vault-crypto';
import { CliError, EXIT } from '../../context';
import { text, type ImportedItem, type ParseResult } from '../model';

const pbkdf2Async = promisify(pbkdf2);

interface ExportFile {
  encrypted?: boolean;
  passwordProtected?: boolean;
  salt?: string;
  kdfType?: number;
  kdfIterations?: number;
  kdfMemory?: number | null;
  kdfParallelism?: number | null;
  encKeyValidation_DO_NOT_EDIT?: string;
  data?: string;
  folders?: { id: string; name: string }[];
  collections?: { id: string; name: string }[];
  items?: ExportItem[];
}

type Obj = Record<string, unknown>;
interface ExportItem extends Obj {
  type: number;
  name?: string;
  folderId?: string | null;
  collectionIds?: string[] | null;
}

export interface BitwardenContext {
  /** The file's password, asked for only when the file is password-protected. */
  filePassword(): Promise<string>;
  /** The importing account's user key, for an export encrypted with the account (not a password). */
  userKey: SymmetricKey | null;
}

/**
 * The key of a password-protected export: the KDF over the password with the file's own salt (used as
 * it is: unlike an account salt it is not an e-mail to lower-case), stretched by HKDF into enc ‖ mac.
 */
async function fileKey(password: string, file: ExportFile): Promise<SymmetricKey> {
  const salt = file.salt ?? '';
  const iterations = file.kdfIterations ?? 0;
  let master: Buffer;
  if (file.kdfType === 1) {
    master = await argon2.hash(Buffer.from(password, 'utf8'), {
      type: argon2.argon2id,
      version: 0x13,
      raw: true,
      salt: createHash('sha256').update(salt, 'utf8').digest(),
      memoryCost: (file.kdfMemory ?? 64) * 1024,
      timeCost: iterations,
      parallelism: file.kdfParallelism ?? 4,
      hashLength: 32,
    });
  } else {
    if (iterations < 5_000 || iterations > 2_000_000)
      throw new CliError('the export names an invalid KDF', EXIT.failure);
    master = await pbkdf2Async(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), iterations, 32, 'sha256');
  }
  return SymmetricKey.fromParts(hkdfExpand(master, 'enc', 32), hkdfExpand(master, 'mac', 32));
}

const str = (v: unknown): string | null => text(v);

function subset<K extends string>(names: readonly K[], source: unknown): Partial<Record<K, string | null>> {
  const o = (source ?? {}) as Obj;
  return Object.fromEntries(names.map((n) => [n, str(o[n])])) as Partial<Record<K, string | null>>;
}

/** A plaintext export item as a PlainCipher (unknown members ignored, unknown types refused). */
function toCipher(item: ExportItem): PlainCipher {
  const common = {
    name: str(item.name) ?? '--',
    notes: str(item['notes']),
    favorite: item['favorite'] === true,
    reprompt: item['reprompt'] === 1 ? (1 as const) : (0 as const),
    fields: Array.isArray(item['fields'])
      ? (item['fields'] as Obj[]).map((f) => ({
          type: (typeof f['type'] === 'number' ? f['type'] : 0) as FieldType,
          name: str(f['name']),
          value: str(f['value']),
          linkedId: typeof f['linkedId'] === 'number' ? f['linkedId'] : null,
        }))
      : null,
    passwordHistory: Array.isArray(item['passwordHistory'])
      ? (item['passwordHistory'] as Obj[]).map((p) => ({
          password: str(p['password']),
          lastUsedDate: text(p['lastUsedDate']) ?? new Date().toISOString(),
        }))
      : null,
  };
  switch (item.type) {
    case 1: {
      const login = (item['login'] ?? {}) as Obj;
      const uris = Array.isArray(login['uris']) ? (login['uris'] as Obj[]) : [];
      return {
        ...common,
        type: 1,
        login: {
          username: str(login['username']),
          password: str(login['password']),
          totp: str(login['totp']),
          uris: uris.flatMap((u) =>
            str(u['uri'])
              ? [{ uri: String(u['uri']), match: typeof u['match'] === 'number' ? (u['match'] as 0) : null }]
              : [],
          ),
        },
      };
    }
    case 2:
      return { ...common, type: 2, secureNote: { type: 0 } };
    case 3:
      return { ...common, type: 3, card: subset(CARD_FIELDS, item['card']) };
    case 4:
      return { ...common, type: 4, identity: subset(IDENTITY_FIELDS, item['identity']) };
    case 5:
      return { ...common, type: 5, sshKey: subset(SSH_KEY_FIELDS, item['sshKey']) };
    default:
      throw new Error(`item type ${item.type} is not supported`);
  }
}

function fromPlain(file: ExportFile, decryptItem?: (item: ExportItem) => PlainCipher): ParseResult {
  const folderNames = new Map<string, string>();
  for (const f of file.folders ?? []) folderNames.set(f.id, f.name);
  for (const c of file.collections ?? []) folderNames.set(c.id, c.name);
  const items: ImportedItem[] = [];
  const failures: ParseResult['failures'] = [];
  (file.items ?? []).forEach((item, i) => {
    try {
      const container = item.folderId ?? item.collectionIds?.[0] ?? null;
      items.push({
        cipher: decryptItem ? decryptItem(item) : toCipher(item),
        folder: container ? (folderNames.get(container) ?? null) : null,
      });
    } catch (error) {
      failures.push({ where: `item ${i + 1}`, reason: error instanceof Error ? error.message : String(error) });
    }
  });
  return { items, failures };
}

/** Bitwarden's JSON export: plain, password-protected, or encrypted with the account's own key. */
export async function parseBitwarden(data: Buffer, context: BitwardenContext): Promise<ParseResult> {
  let file: ExportFile;
  try {
    file = JSON.parse(data.toString('utf8').replace(/^\uFEFF/, '')) as ExportFile;
  } catch {
    throw new CliError('the file is not JSON: not a Bitwarden export', EXIT.failure);
  }
  if (file.encrypted && file.passwordProtected) {
    const key = await fileKey(await context.filePassword(), file);
    try {
      decryptType2Utf8(key, file.encKeyValidation_DO_NOT_EDIT ?? '');
    } catch {
      throw new CliError('wrong password for this export file', EXIT.unauthorized);
    }
    return parseBitwarden(Buffer.from(decryptType2Utf8(key, file.data ?? ''), 'utf8'), context);
  }
  if (file.encrypted) {
    const userKey = context.userKey;
    if (!userKey) throw new CliError('this export is encrypted with an account key', EXIT.failure);
    const folders = (file.folders ?? []).map((f) => ({ id: f.id, name: decryptFolderName(userKey, f) }));
    return fromPlain({ ...file, folders, collections: [] }, (item) => {
      const view = decryptCipher(userKey, item as unknown as EncryptedCipher);
      return { ...view, name: view.name ?? '--' } as PlainCipher;
    });
  }
  return fromPlain(file);
}
