"""The customer's own KMS key (`kmsKeyArn`) and what each role needs of it.

The key is imported, not owned by the stack: CDK cannot change its key policy, and its `grant*`
helpers either write identity-policy statements with more actions than a role uses
(`kms:ReEncrypt*`, `kms:GenerateDataKey*`) or, for secrets, nothing at all. So every role gets
hand-written statements here: the KMS actions its calls make AWS perform on its behalf, on this
key only, and only when the call comes through the service that holds the data
(`kms:ViaService`). docs/your-data.md lists the key-policy statements only the key's owner can add.

What each call needs (AWS documentation):
- DynamoDB, any read or write of an item: `kms:Decrypt` of the table key, made on the caller's
  behalf ("How Amazon DynamoDB uses AWS KMS": the Decrypt request's user "is the principal ...
  who is accessing the table"; aws-cdk issues 10010 and 19531 for PutItem and DeleteItem).
- S3 with SSE-KMS: PutObject `kms:GenerateDataKey`; GetObject `kms:Decrypt`; a multipart upload
  both (S3 User Guide, "Using server-side encryption with AWS KMS keys", permissions).
- SQS with SSE: SendMessage `kms:GenerateDataKey` and `kms:Decrypt`; ReceiveMessage
  `kms:Decrypt` (SQS Developer Guide, "Key management", producer and consumer permissions).
- Secrets Manager GetSecretValue: `kms:Decrypt`, with the secret's ARN as encryption context
  `SecretARN` (Secrets Manager User Guide, "Secret encryption and decryption").
- DynamoDB Streams GetRecords: `kms:Decrypt` ("DynamoDB Streams are always encrypted with the
  table's key", encryption usage notes; aws-cdk issue 22796). No AWS page gives the ViaService
  value of the streams endpoint, so both `dynamodb.` and `streams.dynamodb.` are allowed.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

DECRYPT = "kms:Decrypt"
GENERATE_DATA_KEY = "kms:GenerateDataKey"


def imported_key(scope: Construct, key_arn: str | None) -> kms.IKey | None:
    return kms.Key.from_key_arn(scope, "CustomerKey", key_arn) if key_arn else None


def via(service: str) -> str:
    return f"{service}.{Aws.REGION}.amazonaws.com"


def allow_key_use(
    role: iam.IRole,
    key: kms.IKey | None,
    *,
    service: str,
    actions: Sequence[str],
    secret_arns: Sequence[str] = (),
    also_via: Sequence[str] = (),
) -> None:
    """Let `role` make `service` use `key` for `actions` (nothing without a customer key). For
    Secrets Manager, only to decrypt the secrets named in `secret_arns` (patterns allowed).
    `also_via` names other endpoints of the same service the request may come through."""
    if key is None:
        return
    services = [via(name) for name in (service, *also_via)]
    conditions: dict[str, dict[str, object]] = {
        "StringEquals": {"kms:ViaService": services[0] if len(services) == 1 else services}
    }
    if secret_arns:
        conditions["StringLike"] = {"kms:EncryptionContext:SecretARN": list(secret_arns)}
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(actions), resources=[key.key_arn], conditions=conditions)
    )
