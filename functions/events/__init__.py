"""Events out: each new fact in the tables (a report stored, a new version of it, a recording copied
or failed) as an EventBridge event. Pure: no AWS here; the events function's handler feeds it
DynamoDB stream records and an adapter puts what it makes on the bus."""
