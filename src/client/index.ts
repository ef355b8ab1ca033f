/**
 * `cdk-s3-encryption/client`: client-side encryption for Amazon S3 in the Amazon S3 Encryption Client
 * format (V3 key-committing by default, V2 on request; reads V3, V2 and, when enabled, legacy V1).
 *
 * Exported names:
 *   S3EncryptionClient                    putObject, putObjectStream (alias uploadLarge), getObject, deleteObject
 *   S3EncryptionClientProps, CommitmentPolicy, LargeObjectMode, EncryptionContext, PlaintextBody,
 *   PutObjectInput, PutObjectStreamInput, PutObjectStreamOutput, GetObjectInput, GetObjectOutput, DecryptedBody
 *   DataKeyCache, DataKeyCacheOptions, DataKeyCacheStats, CachedDataKey
 *   S3EncryptionClientError and its subclasses: WrongKeyError, EncryptionContextMismatchError,
 *   TamperedObjectError, KeyCommitmentMismatchError (a TamperedObjectError), UnknownFormatError,
 *   LegacyFormatRefusedError, CommitmentPolicyError, InvalidRequestError, UploadLeftOpenError
 *   SseCustomerKey and its parameter, option and error types, SSE_C_KEY_BYTES, COPY_OBJECT_MAX_BYTES
 *   (docs/sse-c.md)
 *   rekeyPrefix, startReencryptionJob, buildCreateJobInputs, RekeyInterruptedError and their types,
 *   reencryptObject, reencryptPrefix, ReencryptUnsupportedError, ReencryptInterruptedError and their
 *   types, BATCH_COPY_MAX_OBJECT_BYTES (docs/reencryption.md)
 *
 * Not part of the jsii API: this subpath is plain TypeScript for Node.js. Install your own
 * @aws-sdk/client-s3 and @aws-sdk/client-kms (v3): without them, loading this entry point fails with
 * an error that names them.
 */
// First: a missing AWS SDK package is named, with the command that installs it.
import './sdk-check';
export { S3EncryptionClient } from './client';
export type {
  S3EncryptionClientProps,
  CommitmentPolicy,
  LargeObjectMode,
  EncryptionContext,
  PlaintextBody,
  PutObjectInput,
  PutObjectStreamInput,
  PutObjectStreamOutput,
  GetObjectInput,
  GetObjectOutput,
} from './client';
export type { DecryptedBody } from './body';
export { DataKeyCache } from './cache';
export type { DataKeyCacheOptions, DataKeyCacheStats, CachedDataKey } from './cache';
export {
  S3EncryptionClientError,
  WrongKeyError,
  EncryptionContextMismatchError,
  TamperedObjectError,
  KeyCommitmentMismatchError,
  UnknownFormatError,
  LegacyFormatRefusedError,
  CommitmentPolicyError,
  InvalidRequestError,
  UploadLeftOpenError,
} from './errors';
export * from './sse-c';
export * from './reencryption';
