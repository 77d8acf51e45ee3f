#!/usr/bin/env python3
"""`cdk synth` / `cdk deploy` entry point."""

import aws_cdk as cdk

from infra.config import ReceiverConfig
from infra.security import add_security_checks
from infra.stack import STACK_NAME, ReceiverStack

app = cdk.App()
ReceiverStack(app, STACK_NAME, config=ReceiverConfig.from_context(app.node))
add_security_checks(app)
app.synth()
