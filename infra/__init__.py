"""The CDK app: configuration, Lambda bundling, constructs and the stack that composes them.

Importing it points jsii (the bridge between the CDK's Python and its JavaScript core) at the
Node.js this project installs (`node_modules/.bin/node`, Node 22, from package.json) when no
JSII_NODE is set: the machine's own Node may be one the CDK no longer supports, and then every
synth prints an end-of-life banner."""

from infra.toolchain import prefer_project_node

prefer_project_node()
