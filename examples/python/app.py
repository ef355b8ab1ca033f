#!/usr/bin/env python3
"""The Python twin of examples/app.ts: the DefaultBucket and AuditedBucket stacks, built from the
jsii-generated `cdk_s3_encryption` package.

    pip install cdk-s3-encryption aws-cdk-lib constructs cdk-nag
    CDK_OUTDIR=cdk.out python app.py      # or: cdk synth --app "python app.py"

The test suite (test/integ/jsii-languages.test.ts) synthesizes this app with the package it has just
built and checks that each template equals the one the TypeScript app synthesizes.
"""
import os

import aws_cdk as cdk
from constructs import Construct

from cdk_s3_encryption import EncryptedBucket, EncryptionAuditTrail

ACCOUNT = os.environ.get("CDK_DEFAULT_ACCOUNT", "123456789012")
PRIMARY = "us-east-1"


class DefaultBucketStack(cdk.Stack):
    """`EncryptedBucket(self, "Data")` and nothing else."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        EncryptedBucket(self, "Data")


class AuditedBucketStack(cdk.Stack):
    """A bucket whose object reads and writes are recorded by an encryption audit trail."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        trail = EncryptionAuditTrail(self, "Audit")
        EncryptedBucket(self, "Data", audit_trail=trail)


def build_example_app(app: cdk.App) -> None:
    primary = cdk.Environment(account=ACCOUNT, region=PRIMARY)
    DefaultBucketStack(app, "DefaultBucket", env=primary)
    AuditedBucketStack(app, "AuditedBucket", env=primary)


if __name__ == "__main__":
    # Under the cdk CLI the output directory comes from the CLI; run directly, from CDK_OUTDIR.
    app = cdk.App(outdir=os.environ.get("CDK_OUTDIR")) if os.environ.get("CDK_OUTDIR") else cdk.App()
    build_example_app(app)
    app.synth()
