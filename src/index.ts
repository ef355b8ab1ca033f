export * from './bucket/encrypted-bucket';
export * from './trail/encryption-audit-trail';
export * from './keys/rotation-policy';
export * from './keys/tenant-keyring';
export * from './keys/sse-c-key-secret';
