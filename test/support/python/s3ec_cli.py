"""A small command line over the Amazon S3 Encryption Client for Python (4.x), for the interop tests.

Usage:
  s3ec_cli.py put BUCKET KEY FILE --endpoint URL --kms-key ID [--region R] [--context k=v,...]
              [--format v3|v2] [--multipart-part-size N]
  s3ec_cli.py get BUCKET KEY FILE --endpoint URL --kms-key ID [--region R] [--context k=v,...]
              [--require-commitment]

put encrypts FILE into s3://BUCKET/KEY; get decrypts s3://BUCKET/KEY into FILE. S3 and KMS share one
endpoint (the local moto server). On failure it exits 1 and prints the error class and message on
stderr, then the class and message of every exception in its cause chain.

The Python client cannot write instruction files (it only reads them), so there is no option for that.
"""

import argparse
import sys

import boto3
from botocore.config import Config

from s3_encryption import S3EncryptionClient, S3EncryptionClientConfig
from s3_encryption.materials.kms_keyring import KmsKeyring
from s3_encryption.materials.materials import AlgorithmSuite, CommitmentPolicy


def parse_context(raw):
    """Parses k=v,k2=v2 into a dict; None when no context was given."""
    if raw is None or raw == "":
        return None
    context = {}
    for pair in raw.split(","):
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"s3ec_cli: --context entry {pair!r} is not k=v")
        context[name] = value
    return context


def parse_args(argv):
    p = argparse.ArgumentParser(prog="s3ec_cli.py", description="Amazon S3 Encryption Client for Python, put/get")
    p.add_argument("command", choices=["put", "get"])
    p.add_argument("bucket")
    p.add_argument("key")
    p.add_argument("file")
    p.add_argument("--endpoint", required=True, help="base URL of S3 and KMS (one local server)")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--kms-key", required=True, help="KMS key id or ARN that wraps the data key")
    p.add_argument("--context", help="encryption context as k=v,k2=v2")
    p.add_argument("--format", choices=["v3", "v2"], default="v3", help="put: key-committing V3 (default) or V2")
    p.add_argument("--multipart-part-size", type=int, help="put: upload with the multipart API in parts of N bytes")
    p.add_argument("--require-commitment", action="store_true",
                   help="get: refuse non-committing (V2) objects, the Python client's default policy")
    return p.parse_args(argv)


def make_client(args):
    # Path-style addressing: the bucket is not a DNS name on 127.0.0.1.
    boto_config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2, "mode": "standard"})
    s3 = boto3.client("s3", endpoint_url=args.endpoint, region_name=args.region, config=boto_config)
    kms = boto3.client("kms", endpoint_url=args.endpoint, region_name=args.region, config=boto_config)
    keyring = KmsKeyring(kms, args.kms_key)
    if args.command == "put" and args.format == "v2":
        config = S3EncryptionClientConfig(
            keyring=keyring,
            encryption_algorithm=AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF,
            commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
        )
    elif args.require_commitment:
        config = S3EncryptionClientConfig(keyring=keyring)
    else:
        config = S3EncryptionClientConfig(
            keyring=keyring,
            encryption_algorithm=AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
            commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
        )
    return S3EncryptionClient(s3, config)


def put(client, args, context):
    extra = {} if context is None else {"EncryptionContext": context}
    with open(args.file, "rb") as f:
        data = f.read()
    size = args.multipart_part_size
    if not size:
        client.put_object(Bucket=args.bucket, Key=args.key, Body=data, **extra)
        print(f"put s3://{args.bucket}/{args.key}: {len(data)} bytes, {args.format}")
        return
    # The low-level multipart API: parts are encrypted in order with one cipher, the last one carries the tag.
    upload = client.create_multipart_upload(Bucket=args.bucket, Key=args.key, **extra)
    upload_id = upload["UploadId"]
    parts = []
    try:
        offsets = list(range(0, len(data), size)) or [0]
        for number, start in enumerate(offsets, 1):
            res = client.upload_part(
                Bucket=args.bucket, Key=args.key, UploadId=upload_id, PartNumber=number,
                Body=data[start:start + size], IsLastPart=number == len(offsets),
            )
            parts.append({"PartNumber": number, "ETag": res["ETag"]})
        client.complete_multipart_upload(
            Bucket=args.bucket, Key=args.key, UploadId=upload_id, MultipartUpload={"Parts": parts},
        )
    except BaseException:
        client.abort_multipart_upload(Bucket=args.bucket, Key=args.key, UploadId=upload_id)
        raise
    print(f"put s3://{args.bucket}/{args.key}: {len(data)} bytes, {args.format}, in {len(parts)} parts")


def get(client, args, context):
    extra = {} if context is None else {"EncryptionContext": context}
    res = client.get_object(Bucket=args.bucket, Key=args.key, **extra)
    data = res["Body"].read()
    with open(args.file, "wb") as f:
        f.write(data)
    print(f"get s3://{args.bucket}/{args.key}: {len(data)} bytes")


def describe(e):
    return f"{type(e).__module__}.{type(e).__qualname__}: {e}"


def main(argv):
    args = parse_args(argv)
    context = parse_context(args.context)
    try:
        client = make_client(args)
        (put if args.command == "put" else get)(client, args, context)
    except Exception as e:  # noqa: BLE001 - every failure is reported the same way
        lines = [f"error: {describe(e)}"]
        cause = e.__cause__ or e.__context__
        seen = {id(e)}
        while cause is not None and id(cause) not in seen:
            seen.add(id(cause))
            lines.append(f"caused by: {describe(cause)}")
            cause = cause.__cause__ or cause.__context__
        print("\n".join(lines), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
