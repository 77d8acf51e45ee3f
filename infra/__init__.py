"""The CDK app: configuration, Lambda bundling, constructs and the stack that composes them."""
