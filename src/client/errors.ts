/**
 * Typed errors of S3EncryptionClient. Every message says what happened and what to do. Catch
 * `S3EncryptionClientError` for every error the client itself raises, or a subclass for one case.
 * S3 and KMS errors that say nothing about encryption (network, throttling, NoSuchKey) pass through
 * from the SDK. The SSE-C helpers have their own `SseCustomerKeyError`; invalid cache options throw RangeError.
 */
export class S3EncryptionClientError extends Error {
  /** Stable machine-readable code, same as the class name. */
  public readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = new.target.name;
  }
}

/** KMS refused to decrypt the data key with the configured KMS key. */
export class WrongKeyError extends S3EncryptionClientError {}

/** The encryption context given on read does not match the one the object was written with. */
export class EncryptionContextMismatchError extends S3EncryptionClientError {}

/** The object body, its tag, or its metadata was changed after it was written. */
export class TamperedObjectError extends S3EncryptionClientError {}

/** The key commitment stored with a V3 object does not match its data key. */
export class KeyCommitmentMismatchError extends TamperedObjectError {}

/** The object's metadata matches no S3 Encryption Client format this client knows. */
export class UnknownFormatError extends S3EncryptionClientError {}

/** The object uses a legacy unauthenticated format (V1 / AES-CBC / `kms` wrapping) and legacy reads are off. */
export class LegacyFormatRefusedError extends S3EncryptionClientError {}

/** The commitment policy forbids reading a non-committing (V1/V2) object. */
export class CommitmentPolicyError extends S3EncryptionClientError {}

/** A request the client cannot serve safely, e.g. a ranged GET or a reserved encryption context key. */
export class InvalidRequestError extends S3EncryptionClientError {}

/**
 * A multipart upload failed and so did its abort: the upload is still open (and its parts billed)
 * until someone aborts it. `uploadId` names it; `cause` is the upload's own error.
 */
export class UploadLeftOpenError extends S3EncryptionClientError {
  constructor(
    message: string, public readonly bucket: string, public readonly key: string, public readonly uploadId: string, options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
