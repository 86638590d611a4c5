export * from './ciphers/cipher';
export * from './ciphers/cipher-request';
export * from './ciphers/cipher.repository';
export * from './ciphers/cipher-access.repository';
export * from './folders/folder.repository';
export * from './sync/sync.service';
export * from './vault.service';
export * from './vault-domain.module';
