import { plainFields, type CorpusItem, type FormatSpec } from './import-corpus';
import { storedZip } from './import-fixtures';

type Obj = Record<string, unknown>;

/** A 1Password section field: `value` holds one member naming its kind (`string`, `concealed`, `totp`, …). */
const sectionField = (id: string, title: string, value: Obj): Obj => ({
  title,
  id,
  value,
  guarded: false,
  multiline: false,
  dontGenerate: false,
  inputTraits: { keyboard: 'default', correction: 'default', capitalization: 'default' },
});

const customSection = (item: CorpusItem): Obj[] => {
  const fields = item.fields
    .filter((f) => f.type !== 3)
    .map((f, k) =>
      sectionField(`custom${k}`, f.name, f.type === 1 ? { concealed: f.value ?? '' } : { string: f.value ?? '' }),
    );
  return fields.length > 0 ? [{ title: 'Weitere Angaben', name: 'extra', fields }] : [];
};

function details(item: CorpusItem): Obj {
  const l = item.login;
  const c = item.card;
  const id = item.identity;
  if (c)
    return {
      notesPlain: item.notes ?? '',
      sections: [
        {
          title: '',
          name: '',
          fields: [
            sectionField('cardholder', 'cardholder name', { string: c['cardholderName'] }),
            sectionField('type', 'type', { creditCardType: c['brand'] }),
            sectionField('ccnum', 'number', { creditCardNumber: c['number'] }),
            sectionField('cvv', 'verification number', { concealed: c['code'] }),
            sectionField('expiry', 'expiry date', {
              monthYear: Number(`${c['expYear']}${String(c['expMonth']).padStart(2, '0')}`),
            }),
            sectionField('bank', 'issuing bank', { string: 'Zürcher Kantonalbank' }),
          ],
        },
      ],
    };
  if (id)
    return {
      notesPlain: item.notes ?? '',
      sections: [
        {
          title: 'Identification',
          name: 'name',
          fields: [
            sectionField('firstname', 'first name', { string: id['firstName'] }),
            sectionField('initial', 'initial', { string: id['middleName'] }),
            sectionField('lastname', 'last name', { string: id['lastName'] }),
            sectionField('company', 'company', { string: id['company'] }),
          ],
        },
        {
          title: 'Address',
          name: 'address',
          fields: [
            sectionField('address', 'address', {
              address: {
                street: id['address1'],
                city: id['city'],
                country: id['country'],
                zip: id['postalCode'],
                state: id['state'],
              },
            }),
            sectionField('defphone', 'default phone', { phone: id['phone'] }),
          ],
        },
        {
          title: 'Internet Details',
          name: 'internet',
          fields: [
            sectionField('username', 'username', { string: id['username'] }),
            sectionField('email', 'email', { email: { email_address: id['email'], provider: null } }),
          ],
        },
      ],
    };
  return {
    loginFields: l
      ? [
          { value: l.username ?? '', id: '', name: 'username', fieldType: 'T', designation: 'username' },
          { value: l.password ?? '', id: '', name: 'password', fieldType: 'P', designation: 'password' },
        ]
      : [],
    notesPlain: item.notes ?? '',
    sections: [
      ...(l?.totp
        ? [{ title: '', name: '', fields: [sectionField('TOTP_1', 'one-time password', { totp: l.totp })] }]
        : []),
      ...customSection(item),
    ],
    passwordHistory: [],
  };
}

const CATEGORY = { 1: '001', 2: '003', 3: '002', 4: '004' } as const;

function onePuxItem(item: CorpusItem, n: number, state = 'active'): Obj {
  const uris = item.login?.uris ?? [];
  return {
    uuid: `item${n}`,
    favIndex: item.favorite ? 1 : 0,
    createdAt: 1_700_000_000 + n,
    updatedAt: 1_700_000_000 + n,
    state,
    categoryUuid: CATEGORY[item.type],
    details: details(item),
    overview: {
      subtitle: item.login?.username ?? '',
      urls: uris.map((url) => ({ label: 'website', url })),
      title: item.name,
      url: uris[0] ?? '',
      ps: 0,
      pbe: 0,
      pgrng: false,
      tags: [],
    },
  };
}

/**
 * 1Password's 1PUX: a zip with `export.attributes` and `export.data` (accounts → vaults → items). Each vault
 * is a folder (items without one in "Private"); logins carry TOTP and custom sections; cards, identities
 * (with an address) and secure notes their categories; a few items in the trash, which are not imported.
 */
export const ONEPUX: FormatSpec = {
  loginsOnly: false,
  project: (item) => {
    const folder = item.folder ?? 'Private';
    const fields = plainFields(item.fields);
    if (item.card)
      return { ...item, folder, fields: [{ name: 'issuing bank', value: 'Zürcher Kantonalbank', type: 0 }] };
    if (item.identity) {
      const identity = { ...item.identity };
      delete identity['title'];
      delete identity['passportNumber'];
      return { ...item, folder, fields: [], identity };
    }
    return { ...item, folder, fields };
  },
  write: (records) => {
    const vaults = new Map<string, Obj[]>();
    records.forEach((item, n) => {
      const name = item.folder ?? 'Private';
      vaults.set(name, [...(vaults.get(name) ?? []), onePuxItem(item, n)]);
    });
    const trashed = [0, 1, 2].map((n) =>
      onePuxItem(
        {
          type: 1,
          name: `Gelöscht ${n}`,
          notes: null,
          favorite: false,
          folder: null,
          fields: [],
          login: { username: 'gone', password: `deleted-${n}`, totp: null, uris: [] },
        },
        records.length + n,
        'deleted',
      ),
    );
    vaults.set('Private', [...(vaults.get('Private') ?? []), ...trashed]);
    const data = {
      accounts: [
        {
          attrs: { accountName: 'Zoë', name: 'Zoë Quinn', avatar: '', email: 'zoe@example.com', uuid: 'ACCOUNT' },
          vaults: [...vaults].map(([name, items], v) => ({
            attrs: { uuid: `vault${v}`, desc: '', avatar: '', name, type: v === 0 ? 'P' : 'U' },
            items,
          })),
        },
      ],
    };
    return storedZip([
      [
        'export.attributes',
        Buffer.from(
          JSON.stringify({ version: 3, description: '1Password Unencrypted Export', createdAt: 1_700_000_000 }),
        ),
      ],
      ['export.data', Buffer.from(JSON.stringify(data), 'utf8')],
    ]);
  },
};
