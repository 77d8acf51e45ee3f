#!/usr/bin/env python3
"""`cdk synth` / `cdk deploy` entry point."""

import aws_cdk as cdk

from functions.names import stack_name
from infra.config import ReceiverConfig
from infra.security import add_security_checks
from infra.stack import ReceiverStack

app = cdk.App()
config = ReceiverConfig.from_context(app.node)
ReceiverStack(app, stack_name(config.stage), config=config)
add_security_checks(app)
app.synth()
