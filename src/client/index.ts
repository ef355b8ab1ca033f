import { S3Client } from '@aws-sdk/client-s3';
export type Probe = { s3: S3Client; n: bigint };
export function probe(): string { return 'ok'; }
export * from './sse-c';
