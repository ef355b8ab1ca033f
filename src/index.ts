export * from './bucket/encrypted-bucket';
export * from './trail/encryption-audit-trail';
export * from './keys/rotation-policy';
export * from './compliance/s3-encryption-checks';
export * from './keys/tenant-keyring';
export * from './keys/sse-c-key-secret';
export * from './reencryption/reencryption-job';
export * from './platform/encryption-defaults';
