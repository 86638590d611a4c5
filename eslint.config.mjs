// @ts-check
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

/**
 * Which domain may use which, through the other lib's public index only (`@keyhaven/domain-*`; a
 * path into another lib is already an error of this rule). One direction, no cycles:
 *
 *   auth  ←  admin-console  ←  vault  ←  tools        billing → admin-console, auth
 *                                                     events  → admin-console, auth
 *
 * `scope:shared` (contracts, db, platform, runtime, testing, vault-crypto) belongs to no domain and may
 * not use one (the `type:` rules below keep it so; only libs/testing wires domain modules, for the
 * fast tier); `scope:composition` (service libs, apps, the operator CLI) mounts domain modules and is
 * used by none of them.
 */
const scopes = {
  'scope:auth': [],
  'scope:admin-console': ['scope:auth'],
  'scope:vault': ['scope:admin-console', 'scope:auth'],
  'scope:tools': ['scope:vault', 'scope:admin-console', 'scope:auth'],
  'scope:billing': ['scope:admin-console', 'scope:auth'],
  'scope:events': ['scope:admin-console', 'scope:auth'],
};
const scopeConstraints = Object.entries(scopes).map(([scope, reaches]) => ({
  sourceTag: scope,
  onlyDependOnLibsWithTags: [scope, ...reaches, 'scope:shared'],
}));

/**
 * Table ownership: a domain writes only its own tables and asks the owner's service for the rest
 * (the vault bumps `app_user.account_revision_date` through auth's AccountRevisionService). Reads
 * across domains are allowed. `libs/db` (migrations) is outside the rule.
 */
const tablesOf = {
  auth: [
    'app_user',
    'device',
    'refresh_token',
    'signing_key',
    'two_factor_remember',
    'emergency_access',
    'two_factor_provider',
    'webauthn_credential',
    'two_factor_code',
    'key_connector_user_key',
  ],
  vault: [
    'cipher',
    'cipher_user_state',
    'folder',
    'collection_cipher',
    'cipher_import_stage',
    'attachment',
    'attachment_blob_gc',
  ],
  'admin-console': [
    'organization',
    'organization_user',
    'collection',
    'collection_user',
    'collection_group',
    'org_group',
    'group_user',
    'policy',
    'organization_domain',
    'sso_config',
    'sso_user',
    'sso_pending',
    'organization_api_key',
    'organization_connection',
  ],
  tools: ['send', 'send_blob_gc'],
  events: ['event', 'event_outbox', 'siem_webhook', 'event_stream_cursor'],
  billing: ['billing_subscription', 'billing_stripe_event', 'billing_invoice'],
};
const foreignWrites = (domain) => {
  const foreign = Object.entries(tablesOf).flatMap(([owner, tables]) => (owner === domain ? [] : tables));
  const pattern = `/\\b(INSERT\\s+INTO|UPDATE|DELETE\\s+FROM)\\s+(${foreign.join('|')})\\b/i`;
  const message = `${domain} writes only its own tables: ask the owning domain's service (see tablesOf in eslint.config.mjs).`;
  return [
    'error',
    { selector: `Literal[value=${pattern}]`, message },
    { selector: `TemplateElement[value.raw=${pattern}]`, message },
  ];
};
const tableOwnership = ['auth', 'vault', 'admin-console', 'tools', 'events', 'billing'].map((domain) => ({
  files: [`libs/domain/${domain}/src/**/*.ts`],
  ignores: ['**/*.spec.ts'],
  rules: { 'no-restricted-syntax': foreignWrites(domain) },
}));

const boundaries = (extra = []) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [
      ...scopeConstraints,
      {
        sourceTag: 'type:app',
        onlyDependOnLibsWithTags: [
          'type:runtime',
          'type:service',
          'type:platform',
          'type:data',
          'type:contracts',
          'type:domain',
          ...extra,
        ],
      },
      {
        sourceTag: 'type:runtime',
        onlyDependOnLibsWithTags: ['type:platform', 'type:data', 'type:contracts', ...extra],
      },
      {
        sourceTag: 'type:service',
        onlyDependOnLibsWithTags: ['type:domain', 'type:platform', 'type:data', 'type:contracts', ...extra],
      },
      {
        sourceTag: 'type:domain',
        onlyDependOnLibsWithTags: ['type:domain', 'type:platform', 'type:data', 'type:contracts', ...extra],
      },
      { sourceTag: 'type:data', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', ...extra] },
      { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', ...extra] },
      { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts', ...extra] },
      { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', ...extra] },
      {
        sourceTag: 'type:testing',
        onlyDependOnLibsWithTags: [
          'type:runtime',
          'type:platform',
          'type:data',
          'type:contracts',
          'type:util',
          'type:domain',
          'type:service',
          'type:testing',
        ],
      },
    ],
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'data/**',
      '.nx/**',
      'tmp/**',
      '**/*.mjs',
      '**/*.js',
      'helm/**',
      'deploy/**',
    ],
  },
  ...tseslint.configs.strictTypeChecked,
  {
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@nx/enforce-module-boundaries': boundaries(),
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'describe', 'it', 'suite'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-extraneous-class': ['error', { allowWithDecorator: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      // Typed reads from untyped stores (cache, bus) are deliberate.
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through @keyhaven/config.' },
      ],
      // Relative paths into another project are already an error of the boundary rule; this closes the alias.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@keyhaven/*/**'],
              message: 'Import a lib through its public index (@keyhaven/<lib>), never a file inside it.',
            },
          ],
        },
      ],
    },
  },
  {
    // Nest resolves constructor parameters from emitted type metadata: a type-only import would erase it.
    files: [
      '**/*.module.ts',
      '**/*.controller.ts',
      '**/*.service.ts',
      '**/*.repository.ts',
      '**/*.guard.ts',
      '**/*.filter.ts',
      '**/*.handler.ts',
      '**/*.gateway.ts',
    ],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
  ...tableOwnership,
  {
    // The client-side commands (import, dedupe, migrate-account) do the clients' crypto with vault-crypto.
    files: ['tools/cli/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries(['type:util']) },
  },
  {
    files: ['libs/platform/config/**/*.ts', 'tools/**/*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts', 'libs/testing/**/*.ts', 'tools/bench/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries(['type:testing', 'type:util']),
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
