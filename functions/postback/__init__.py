"""The postback function: CallFire POSTs a report, it is checked, read, stored once, answered."""
