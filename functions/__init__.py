"""Lambda code: pure report reading and mapping (`reports`), one package per function
(`postback`, `recordings`, `registration`) with a thin handler, and AWS adapters (`adapters`)."""
